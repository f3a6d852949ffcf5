"""The app fleet: a launch template and an Auto Scaling group in the private subnets, registered with the
load balancer's target group, scaled on CPU and on requests per target, deployed by rolling instance refresh.

Every change to the launch template (a new image tag, new user data, a new AMI) makes a new template version
(a number, never `$Latest`: AWS cannot roll back to that). `pulumi up` rolls it through the fleet with an
instance refresh whose desired configuration is that version (fleet_rollout.py): half the fleet first, a
pause while the deploy alarms watch real traffic, then the rest. If the refresh fails or an alarm fires, AWS
rolls the fleet back to the version the group ran before, and `pulumi up` fails saying so.

The group is created on the template's version of the day and then leaves its launch template to the rollout:
were Pulumi to update it, the group would already be on the new version when the refresh starts, and a
rollback would "return" to it (infra/planning/compute/rollout.py has the story).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.compute.datadog_agent import DatadogOnHosts
from infra.components.compute.fleet_rollout import roll_out_launch_template
from infra.components.compute.fleet_scaling import (
    TrafficMetrics,
    deploy_capacity_alarm,
    deploy_error_alarm,
    target_tracking_policies,
)
from infra.components.compute.instance_role import instance_profile
from infra.planning.compute.ami import al2023_ami_parameter, architecture_of
from infra.planning.compute.health_check import HEALTH_CHECK_GRACE_PERIOD_SECONDS, INSTANCE_WARMUP_SECONDS
from infra.planning.compute.image import image_reference, registry_host
from infra.planning.compute.job_containers import DatadogAgent, JobWorkers, api_job_environment, host_extras
from infra.planning.compute.scaling import FleetSize, is_burstable
from infra.planning.compute.user_data import AppBoot, render_user_data
from infra.planning.naming import child_name, name_tag
from infra.planning.protection import Protection

ROOT_DEVICE = "/dev/xvda"  # Amazon Linux 2023's root device name


@dataclass(frozen=True)
class AppFleetArgs:
    name_prefix: str
    region: str
    subnet_ids: Sequence[pulumi.Input[str]]
    """The private (app) subnets, one per AZ."""
    security_group_id: pulumi.Input[str]
    instance_type: str
    is_graviton: bool
    pinned_ami: str | None
    """The AMI id to boot, or None for the newest AL2023 release (development's `latest`)."""
    size: FleetSize
    root_volume_gb: int
    workers_per_instance: int
    """gunicorn workers per instance (GUNICORN_WORKERS)."""
    mongo_max_pool_size: int
    """Each worker's MongoDB pool (MONGO_MAX_POOL_SIZE), from the fleet's connection budget."""
    repository_url: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    image_tag: str
    app_secret_arn: pulumi.Input[str]
    app_settings_digest: pulumi.Input[str]
    """SHA-256 of the app secret's document (AppSecret.settings_digest): in the user data, so a changed secret is a
    new template version and rolls the fleet (the instances read the secret only when the app starts)."""
    files_bucket_arn: pulumi.Input[str]
    log_retention_days: int
    guard: Protection
    """Production keeps the app's logs (an audit trail) through a mistaken destroy, as it keeps the ALB's."""
    target_group_arn: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]
    load_balancer_arn_suffix: pulumi.Input[str]
    load_balancer_ready: Sequence[pulumi.Resource]
    """The listener forwarding to the target group: the group's health checks and request metrics need it."""
    boot_needs: Sequence[pulumi.Resource]
    """What an instance's first boot needs to exist already (the app secret's value, the database user, the
    routes out and to Atlas, Atlas's access list): instances launch only after them, or the first ones fail,
    churn, and leave the unhealthy alarm firing."""
    tags: Mapping[str, str]
    """The stack's tags: instances and volumes get them at launch (provider default tags do not reach them)."""
    alarm_actions: Sequence[pulumi.Input[str]] = ()
    """Where the deploy alarms notify (the alert topic), on ALARM and back to OK."""
    stack: str = ""
    job_time_limit_seconds: int = 300
    """JOB_TIME_LIMIT_SECONDS for the API (jobTimeLimitSeconds)."""
    colocated_jobs: ColocatedJobs | None = None
    """Tier C colocated: the worker and the exporter run on these instances too."""
    datadog: DatadogOnHosts | None = None
    """datadogEnabled: the agent runs on every instance."""


@dataclass(frozen=True)
class ColocatedJobs:
    """The job containers on the app instances (workerPlacement colocated)."""

    concurrency: int
    mongo_max_pool_size: int


class AppFleet(pulumi.ComponentResource):
    deploy_alarms: list[aws.cloudwatch.MetricAlarm]
    auto_scaling_group_name: pulumi.Output[str]
    launch_template_id: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: AppFleetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:app_fleet:AppFleet", name, None, opts)
        self._name = name
        self._args = args

        log_group = aws.cloudwatch.LogGroup(
            child_name(name, "logs"),
            name=f"/{args.name_prefix}/api",
            retention_in_days=args.log_retention_days,
            tags=name_tag(args.name_prefix, "api-logs"),
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
            colocated_jobs=args.colocated_jobs is not None,
        )
        template = self._launch_template(log_group, profile)
        traffic = TrafficMetrics(
            load_balancer_arn_suffix=args.load_balancer_arn_suffix,
            target_group_arn_suffix=args.target_group_arn_suffix,
        )
        group = aws.autoscaling.Group(
            child_name(name, "asg"),
            vpc_zone_identifiers=list(args.subnet_ids),
            min_size=args.size.min_size,
            desired_capacity=args.size.desired_size,
            max_size=args.size.max_size,
            # The exact version number of the day of creation; later versions arrive through the rollout below.
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            target_group_arns=[args.target_group_arn],
            # An instance the load balancer finds unhealthy is replaced, not only one EC2 finds impaired.
            health_check_type="ELB",
            health_check_grace_period=HEALTH_CHECK_GRACE_PERIOD_SECONDS,
            default_instance_warmup=INSTANCE_WARMUP_SECONDS,
            metrics_granularity="1Minute",
            # Group metrics at one-minute granularity are free; dashboards and alarms read them.
            enabled_metrics=[
                aws.autoscaling.Metric.GROUP_DESIRED_CAPACITY,
                aws.autoscaling.Metric.GROUP_IN_SERVICE_INSTANCES,
                aws.autoscaling.Metric.GROUP_PENDING_INSTANCES,
                aws.autoscaling.Metric.GROUP_TERMINATING_INSTANCES,
                aws.autoscaling.Metric.GROUP_TOTAL_INSTANCES,
            ],
            # Provider default tags never reach an Auto Scaling group; instances get theirs from the template.
            tags=[
                aws.autoscaling.GroupTagArgs(key=key, value=value, propagate_at_launch=False)
                for key, value in sorted({**args.tags, **name_tag(args.name_prefix, "app")}.items())
            ],
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*args.load_balancer_ready, *args.boot_needs],
                # Target tracking owns the desired capacity once the group exists; a deploy must not reset it.
                # The rollout owns the launch template version: only a successful refresh moves the group.
                ignore_changes=["desiredCapacity", "launchTemplate"],
            ),
        )
        target_tracking_policies(self, name, group=group, instance_type=args.instance_type, traffic=traffic)
        actions = args.alarm_actions
        deploy_alarms = [
            deploy_error_alarm(self, name, name_prefix=args.name_prefix, traffic=traffic, actions=actions),
            deploy_capacity_alarm(
                self, name, name_prefix=args.name_prefix, traffic=traffic, group_name=group.name, actions=actions
            ),
        ]
        self.deploy_alarms = deploy_alarms
        roll_out_launch_template(self, name, region=args.region, group=group, template=template, alarms=deploy_alarms)

        self.auto_scaling_group_name = group.name
        self.launch_template_id = template.id
        self.log_group_name = log_group.name
        self.register_outputs(
            {
                "autoScalingGroupName": self.auto_scaling_group_name,
                "launchTemplateId": self.launch_template_id,
                "logGroupName": self.log_group_name,
            }
        )

    def _launch_template(
        self, log_group: aws.cloudwatch.LogGroup, profile: aws.iam.InstanceProfile
    ) -> aws.ec2.LaunchTemplate:
        args = self._args
        image_id = args.pinned_ami
        if image_id is None:
            # A plain invoke: the AMI id is known at preview, so a new AL2023 release shows up as a planned change.
            image_id = aws.ssm.get_parameter(
                name=al2023_ami_parameter(architecture_of(is_graviton=args.is_graviton)),
                opts=pulumi.InvokeOptions(parent=self),
            ).value
        # User data is part of the template's version (the provider's update creates a new version for it; a change
        # of `tags` would not: terraform-provider-aws, internal/service/ec2/ec2_launch_template.go, updateKeys).
        datadog = args.datadog
        user_data = pulumi.Output.all(
            args.repository_url,
            args.app_secret_arn,
            log_group.name,
            args.app_settings_digest,
            datadog.api_key_secret_arn if datadog else "",
        ).apply(lambda values: base64.b64encode(render_user_data(self._boot(*values)).encode()).decode())
        instance_tags = {**args.tags, **name_tag(args.name_prefix, "app")}
        return aws.ec2.LaunchTemplate(
            child_name(self._name, "template"),
            description=f"{args.name_prefix} app instances running image {args.image_tag}",
            image_id=image_id,
            instance_type=args.instance_type,
            # No key pair and no port 22: shell access is SSM Session Manager, audited and IAM-controlled.
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            vpc_security_group_ids=[args.security_group_id],
            user_data=user_data,
            update_default_version=True,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",  # IMDSv2 only: no credential theft through SSRF
                # 2, not 1: the container on Docker's bridge is one hop further and needs the role's credentials.
                http_put_response_hop_limit=2,
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
            # Burstable instances keep full speed past their credits (billed) instead of being throttled into
            # failing health checks; the CPU target keeps the fleet near the baseline.
            credit_specification=(
                aws.ec2.LaunchTemplateCreditSpecificationArgs(cpu_credits="unlimited")
                if is_burstable(args.instance_type)
                else None
            ),
            # One-minute instance metrics: target tracking reacts in minutes, not in five-minute steps.
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=instance_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            tags=name_tag(args.name_prefix, "app-template"),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _boot(
        self, repository_url: str, secret_arn: str, log_group_name: str, digest: str, datadog_secret_arn: str
    ) -> AppBoot:
        """The instances' boot from resolved values: the API, and the Datadog agent and the job containers when
        the stack runs them here."""
        args = self._args
        image = image_reference(repository_url, args.image_tag)
        datadog = (
            DatadogAgent(args.datadog.site, datadog_secret_arn, args.stack, args.image_tag) if args.datadog else None
        )
        jobs = args.colocated_jobs
        workers = (
            JobWorkers(
                region=args.region,
                image=image,
                release=args.image_tag,
                registry=registry_host(repository_url),
                app_secret_arn=secret_arn,
                settings_digest=digest,
                log_group_name=log_group_name,
                stack=args.stack,
                concurrency=jobs.concurrency,
                time_limit_seconds=args.job_time_limit_seconds,
                mongo_max_pool_size=jobs.mongo_max_pool_size,
                datadog=datadog,
            )
            if jobs is not None
            else None
        )
        return AppBoot(
            region=args.region,
            image=image,
            release=args.image_tag,
            registry=registry_host(repository_url),
            app_secret_arn=secret_arn,
            log_group_name=log_group_name,
            workers=args.workers_per_instance,
            mongo_max_pool_size=args.mongo_max_pool_size,
            settings_digest=digest,
            extra_environment=api_job_environment(time_limit_seconds=args.job_time_limit_seconds, datadog=datadog),
            extras=host_extras(region=args.region, workers=workers, datadog=datadog),
        )
