"""The background job workers' own fleet (tiers A and C, workerPlacement dedicated): a launch template of the app's
AMI and image running the worker and the queue metrics exporter (infra/planning/compute/job_containers.py), an
Auto Scaling group in the private subnets of every AZ with no load balancer, scaled on queue depth per worker
host, rolled like the app fleet, with a security group that admits nothing.

Health: EC2 status checks, plus the host's own report of Celery's ping (SetInstanceHealth, its own group only).
Termination: a lifecycle hook holds a terminating instance while the host stops the worker warmly (running jobs
finish, for up to the job time limit). Nothing is lost even when that fails (a crash, a Spot-like sudden stop):
tasks are acknowledged late (acks_late) and rejected when their worker is lost, so Redis redelivers an
unacknowledged job to another worker, and the job id makes the rerun idempotent.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.compute.app_fleet import ROOT_DEVICE
from infra.components.compute.datadog_agent import DatadogOnHosts
from infra.components.compute.fleet_rollout import roll_out_launch_template
from infra.components.compute.instance_role import instance_profile
from infra.components.compute.security_groups import CidrEgress
from infra.components.compute.worker_scaling import queue_depth_scaling_policy, worker_capacity_alarm
from infra.components.entry.security_group_rules import BackendAccess, GroupRules
from infra.planning.compute.ami import al2023_ami_parameter, architecture_of
from infra.planning.compute.health_check import HEALTH_CHECK_GRACE_PERIOD_SECONDS, INSTANCE_WARMUP_SECONDS
from infra.planning.compute.image import image_reference, registry_host
from infra.planning.compute.instance_policy import worker_group_policy_document
from infra.planning.compute.job_containers import DatadogAgent, JobWorkers, lifecycle_heartbeat_seconds
from infra.planning.compute.scaling import FleetSize, is_burstable
from infra.planning.compute.worker_user_data import render_worker_user_data
from infra.planning.naming import child_name, name_tag
from infra.planning.protection import Protection

TERMINATION_HOOK = "stop-worker-warmly"
"""The lifecycle hook's name (the host's health timer completes it once the worker has stopped)."""


@dataclass(frozen=True)
class WorkerFleetArgs:
    name_prefix: str
    region: str
    stack: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """The private subnets, one per AZ."""
    instance_type: str
    is_graviton: bool
    pinned_ami: str | None
    size: FleetSize
    root_volume_gb: int
    concurrency: int
    time_limit_seconds: int
    queue_depth_target_per_worker: int
    mongo_max_pool_size: int
    repository_url: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    image_tag: str
    app_secret_arn: pulumi.Input[str]
    app_settings_digest: pulumi.Input[str]
    files_bucket_arn: pulumi.Input[str]
    egress: Sequence[CidrEgress]
    """Where the workers connect outside the VPC's security groups: HTTPS (AWS APIs, the registry), Atlas."""
    backends: Sequence[BackendAccess]
    """The cache (Redis: the broker): its group admits the workers' group on its port."""
    log_retention_days: int
    guard: Protection
    boot_needs: Sequence[pulumi.Resource]
    tags: Mapping[str, str]
    datadog: DatadogOnHosts | None = None
    alarm_actions: Sequence[pulumi.Input[str]] = ()


class WorkerFleet(pulumi.ComponentResource):
    auto_scaling_group_name: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    capacity_alarm: aws.cloudwatch.MetricAlarm

    def __init__(self, name: str, args: WorkerFleetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:worker_fleet:WorkerFleet", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)

        security_group = self._security_group()
        log_group = aws.cloudwatch.LogGroup(
            child_name(name, "logs"),
            name=f"/{args.name_prefix}/worker",
            retention_in_days=args.log_retention_days,
            tags=name_tag(args.name_prefix, "worker-logs"),
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.guard.protect, retain_on_delete=args.guard.retain_on_delete
            ),
        )
        profile = instance_profile(
            self,
            name,
            name_prefix=args.name_prefix,
            repository_arn=args.repository_arn,
            app_secret_arn=args.app_secret_arn,
            files_bucket_arn=args.files_bucket_arn,
            log_group_arn=log_group.arn,
            datadog_secret_arn=args.datadog.api_key_secret_arn if args.datadog else None,
            job_workers=True,
            description="job worker instances: pull the image, read the app secret, use the files bucket objects",
            label="worker-instance",
        )
        template = self._launch_template(security_group.id, log_group, profile)
        group = aws.autoscaling.Group(
            child_name(name, "asg"),
            vpc_zone_identifiers=list(args.subnet_ids),
            min_size=args.size.min_size,
            desired_capacity=args.size.desired_size,
            max_size=args.size.max_size,
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            # No load balancer: EC2's status checks, plus the host's report of Celery's ping (SetInstanceHealth).
            health_check_type="EC2",
            health_check_grace_period=HEALTH_CHECK_GRACE_PERIOD_SECONDS,
            default_instance_warmup=INSTANCE_WARMUP_SECONDS,
            # Hold a terminating instance while its worker finishes its running jobs (the host completes the hook
            # once the worker has stopped; at the timeout Auto Scaling continues anyway). In the group from its
            # creation, so no first instance escapes it.
            initial_lifecycle_hooks=[
                aws.autoscaling.GroupInitialLifecycleHookArgs(
                    name=TERMINATION_HOOK,
                    lifecycle_transition="autoscaling:EC2_INSTANCE_TERMINATING",
                    heartbeat_timeout=lifecycle_heartbeat_seconds(args.time_limit_seconds),
                    default_result="CONTINUE",
                )
            ],
            metrics_granularity="1Minute",
            # GroupInServiceInstances is the denominator of the queue-depth-per-worker metric math.
            enabled_metrics=[
                aws.autoscaling.Metric.GROUP_DESIRED_CAPACITY,
                aws.autoscaling.Metric.GROUP_IN_SERVICE_INSTANCES,
                aws.autoscaling.Metric.GROUP_PENDING_INSTANCES,
                aws.autoscaling.Metric.GROUP_TERMINATING_INSTANCES,
                aws.autoscaling.Metric.GROUP_TOTAL_INSTANCES,
            ],
            tags=[
                aws.autoscaling.GroupTagArgs(key=key, value=value, propagate_at_launch=False)
                for key, value in sorted({**args.tags, **name_tag(args.name_prefix, "worker")}.items())
            ],
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(args.boot_needs),
                ignore_changes=["desiredCapacity", "launchTemplate"],
            ),
        )
        aws.iam.RolePolicy(
            child_name(name, "own-group-policy"),
            role=profile.role,
            policy=group.arn.apply(worker_group_policy_document),
            opts=child,
        )
        queue_depth_scaling_policy(
            self,
            name,
            group_name=group.name,
            stack=args.stack,
            target_per_worker=args.queue_depth_target_per_worker,
        )
        capacity_alarm = worker_capacity_alarm(
            self, name, name_prefix=args.name_prefix, group_name=group.name, actions=args.alarm_actions
        )
        roll_out_launch_template(
            self, name, region=args.region, group=group, template=template, alarms=[capacity_alarm]
        )

        self.auto_scaling_group_name = group.name
        self.security_group_id = security_group.id
        self.log_group_name = log_group.name
        self.capacity_alarm = capacity_alarm
        self.register_outputs(
            {
                "autoScalingGroupName": self.auto_scaling_group_name,
                "securityGroupId": self.security_group_id,
                "logGroupName": self.log_group_name,
            }
        )

    def _security_group(self) -> aws.ec2.SecurityGroup:
        """No ingress at all; egress to HTTPS, Atlas over the peering and the cache only."""
        args = self._args
        group = aws.ec2.SecurityGroup(
            child_name(self._name, "security-group"),
            vpc_id=args.vpc_id,
            description="Job workers: no ingress; out to HTTPS, MongoDB Atlas and the cache",
            tags=name_tag(args.name_prefix, "worker"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for rule in args.egress:
            aws.vpc.SecurityGroupEgressRule(
                child_name(self._name, "out", rule.name),
                security_group_id=group.id,
                ip_protocol="tcp",
                from_port=rule.from_port,
                to_port=rule.to_port,
                cidr_ipv4=rule.cidr_ipv4,
                description=rule.description,
                tags=name_tag(args.name_prefix, "worker-out", rule.name),
                opts=pulumi.ResourceOptions(parent=self),
            )
        rules = GroupRules(self, self._name, args.name_prefix)
        rules.backends_from(args.backends, client_group_id=group.id, client="worker")
        for backend in args.backends:
            rules.egress(
                "out",
                backend.name,
                group_id=group.id,
                target_group_id=backend.security_group_id,
                port=backend.port,
                description=f"{backend.description} (the job broker)",
            )
        return group

    def _launch_template(
        self,
        security_group_id: pulumi.Input[str],
        log_group: aws.cloudwatch.LogGroup,
        profile: aws.iam.InstanceProfile,
    ) -> aws.ec2.LaunchTemplate:
        args = self._args
        image_id = args.pinned_ami
        if image_id is None:
            image_id = aws.ssm.get_parameter(
                name=al2023_ami_parameter(architecture_of(is_graviton=args.is_graviton)),
                opts=pulumi.InvokeOptions(parent=self),
            ).value
        datadog = args.datadog
        user_data = pulumi.Output.all(
            args.repository_url,
            args.app_secret_arn,
            log_group.name,
            args.app_settings_digest,
            datadog.api_key_secret_arn if datadog else "",
        ).apply(
            lambda values: base64.b64encode(
                render_worker_user_data(
                    JobWorkers(
                        region=args.region,
                        image=image_reference(values[0], args.image_tag),
                        release=args.image_tag,
                        registry=registry_host(values[0]),
                        app_secret_arn=values[1],
                        settings_digest=values[3],
                        log_group_name=values[2],
                        stack=args.stack,
                        concurrency=args.concurrency,
                        time_limit_seconds=args.time_limit_seconds,
                        mongo_max_pool_size=args.mongo_max_pool_size,
                        datadog=DatadogAgent(datadog.site, values[4], args.stack, args.image_tag) if datadog else None,
                    ),
                    lifecycle_hook=TERMINATION_HOOK,
                ).encode()
            ).decode()
        )
        instance_tags = {**args.tags, **name_tag(args.name_prefix, "worker")}
        return aws.ec2.LaunchTemplate(
            child_name(self._name, "template"),
            description=f"{args.name_prefix} job worker instances running image {args.image_tag}",
            image_id=image_id,
            instance_type=args.instance_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            vpc_security_group_ids=[security_group_id],
            user_data=user_data,
            update_default_version=True,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                # 1: the job containers share the host's network namespace (no bridge hop), so only the host and
                # they reach the role's credentials; a container on Docker's bridge (the Datadog agent) cannot.
                http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=args.root_volume_gb,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            credit_specification=(
                aws.ec2.LaunchTemplateCreditSpecificationArgs(cpu_credits="unlimited")
                if is_burstable(args.instance_type)
                else None
            ),
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=instance_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            tags=name_tag(args.name_prefix, "worker-template"),
            opts=pulumi.ResourceOptions(parent=self),
        )
