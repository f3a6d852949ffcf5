"""The compute half of an EC2 stack (tiers A and C), wired from its config: the image repository, the
security groups, the load balancer and the app fleet. Tier B runs the app on EKS instead (a later issue).

Built after the data tier, which it reaches through inputs only: the app secret's ARN, the files bucket's ARN
and the backends' security groups (this side adds the one ingress rule into each).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from infra.capacity.ec2_fleet import ec2_fleet_budget
from infra.capacity.mongo_connections import JOB_WORKER_POOL_SIZE
from infra.components.compute.app_fleet import AppFleet, AppFleetArgs, ColocatedJobs
from infra.components.compute.datadog_agent import DatadogApiKey, DatadogApiKeyArgs, DatadogOnHosts
from infra.components.compute.security_groups import CidrEgress, WebSecurityGroups, WebSecurityGroupsArgs
from infra.components.compute.worker_fleet import WorkerFleet, WorkerFleetArgs
from infra.components.entry.builders import public_load_balancer
from infra.components.entry.load_balancer import LoadBalancer, listener_ports
from infra.components.entry.security_group_rules import BackendAccess
from infra.components.network import Network
from infra.components.registry import ImageRepository, image_repository
from infra.config import CacheMode, StackConfig
from infra.planning.compute.health_check import APP_PORT
from infra.planning.compute.scaling import FleetSize
from infra.planning.data.atlas_sizing import atlas_cidr_for
from infra.planning.protection import protection_for
from infra.planning.tags import default_tags

HTTPS = 443
# Atlas replica sets listen on 27017; sharded clusters' mongos on 27016 and config servers on 27015.
ATLAS_PORTS = (27015, 27017)
ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class ComputeTier:
    registry: ImageRepository
    security_groups: WebSecurityGroups
    load_balancer: LoadBalancer
    fleet: AppFleet
    workers: WorkerFleet | None = None
    """The job workers' own fleet (workerPlacement dedicated); None when they run on the app instances."""


def app_egress(config: StackConfig) -> list[CidrEgress]:
    """Where the app connects outside the VPC's security groups. DNS, NTP and the instance metadata service
    are link-local and need no rule."""
    return [*_aws_and_atlas_egress(config), *_external_redis_egress(config)]


def internet_ports(config: StackConfig) -> tuple[int, ...]:
    """The TCP ports the app reaches on the internet (through the NAT): what a NAT instance forwards."""
    return tuple(sorted({port for rule in app_egress(config) if rule.cidr_ipv4 == ANYWHERE for port in _ports(rule)}))


def _ports(rule: CidrEgress) -> range:
    return range(rule.from_port, rule.to_port + 1)


def _external_redis_egress(config: StackConfig) -> list[CidrEgress]:
    """With cacheMode external the app reaches a Redis outside the VPC, through the NAT: its port, to any
    address. Its host name is in the secret URL, and hosted Redis services move their addresses behind a
    stable name, so an address rule would break on their next failover; the port alone is not secret.
    TLS and the Redis password still authenticate the server and the app."""
    port = config.cache.external_port
    if config.cache.mode is not CacheMode.EXTERNAL or port is None:
        return []
    if port == HTTPS:
        return []  # the HTTPS rule already opens it; EC2 refuses a duplicate rule
    return [
        CidrEgress(
            name="external-redis",
            cidr_ipv4=ANYWHERE,
            from_port=port,
            to_port=port,
            description=f"The external Redis (cacheMode external) on port {port}, through the NAT",
        )
    ]


def _aws_and_atlas_egress(config: StackConfig) -> list[CidrEgress]:
    return [
        CidrEgress(
            name="https",
            cidr_ipv4=ANYWHERE,
            from_port=HTTPS,
            to_port=HTTPS,
            description="AWS APIs (ECR, Secrets Manager, S3, SSM, CloudWatch) and package repositories over HTTPS",
        ),
        CidrEgress(
            name="atlas",
            cidr_ipv4=str(atlas_cidr_for(config.network.vpc_cidr)),
            from_port=ATLAS_PORTS[0],
            to_port=ATLAS_PORTS[1],
            description="MongoDB Atlas over the VPC peering",
        ),
    ]


def build_compute_tier(
    config: StackConfig,
    network: Network,
    *,
    app_secret_arn: pulumi.Input[str],
    app_settings_digest: pulumi.Input[str],
    files_bucket_arn: pulumi.Input[str],
    backends: Sequence[BackendAccess],
    boot_needs: Sequence[pulumi.Resource],
    opts: pulumi.ResourceOptions,
    alarm_actions: Sequence[pulumi.Input[str]] = (),
) -> ComputeTier:
    """`boot_needs`: what the instances' first boot reads or connects through (AppFleetArgs.boot_needs)."""
    name_prefix = f"{config.project}-{config.stack}"
    guard = protection_for(config.is_production)
    registry = image_repository(config, opts)
    security_groups = WebSecurityGroups(
        "security-groups",
        WebSecurityGroupsArgs(
            name_prefix=name_prefix,
            vpc_id=network.vpc_id,
            app_port=APP_PORT,
            listener_ports=listener_ports(https=config.https_enabled),
            backends=backends,
            egress=app_egress(config),
        ),
        opts=opts,
    )
    load_balancer = public_load_balancer(
        config,
        network,
        security_group_id=security_groups.load_balancer_security_group_id,
        target_type="instance",
        opts=opts,
    )
    compute = config.compute
    # Validated by the config rules already: the fleet at its largest fits its share of the Atlas tier.
    budget = ec2_fleet_budget(
        instance_type=compute.instance_type,
        max_size=compute.max_size,
        atlas_min_tier=config.database.min_instance_size,
        job_worker_connections=config.ec2_job_worker_connections,
    )
    datadog = datadog_on_hosts(config, opts)
    jobs = config.jobs
    fleet = AppFleet(
        "app-fleet",
        AppFleetArgs(
            name_prefix=name_prefix,
            region=config.region,
            subnet_ids=network.private_subnet_ids,
            security_group_id=security_groups.app_security_group_id,
            instance_type=compute.instance_type,
            is_graviton=compute.is_graviton,
            pinned_ami=compute.pinned_ami,
            size=FleetSize(compute.min_size, compute.desired_size, compute.max_size),
            root_volume_gb=compute.root_volume_gb,
            workers_per_instance=budget.workers_per_instance,
            mongo_max_pool_size=budget.mongo.pool_per_worker,
            repository_url=registry.repository_url,
            repository_arn=registry.repository_arn,
            image_tag=compute.image_tag,
            app_secret_arn=app_secret_arn,
            app_settings_digest=app_settings_digest,
            files_bucket_arn=files_bucket_arn,
            log_retention_days=config.log_retention_days,
            guard=guard,
            target_group_arn=load_balancer.target_group_arn,
            target_group_arn_suffix=load_balancer.target_group_arn_suffix,
            load_balancer_arn_suffix=load_balancer.arn_suffix,
            load_balancer_ready=[load_balancer.forwarding_listener],
            boot_needs=boot_needs,
            tags=default_tags(config),
            alarm_actions=alarm_actions,
            stack=config.stack,
            job_time_limit_seconds=jobs.time_limit_seconds,
            colocated_jobs=ColocatedJobs(jobs.worker_concurrency, JOB_WORKER_POOL_SIZE)
            if config.colocated_workers
            else None,
            datadog=datadog,
        ),
        opts=opts,
    )
    workers = None
    if config.dedicated_workers:
        workers = WorkerFleet(
            "worker-fleet",
            WorkerFleetArgs(
                name_prefix=name_prefix,
                region=config.region,
                stack=config.stack,
                vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids,
                instance_type=jobs.worker_instance_type,
                is_graviton=jobs.worker_is_graviton,
                # The app's AMI pin: one reviewed Amazon Linux release for every host of the stack.
                pinned_ami=compute.pinned_ami,
                size=FleetSize(jobs.worker_min_size, jobs.worker_min_size, jobs.worker_max_size),
                root_volume_gb=compute.root_volume_gb,
                concurrency=jobs.worker_concurrency,
                time_limit_seconds=jobs.time_limit_seconds,
                queue_depth_target_per_worker=jobs.queue_depth_target_per_worker,
                mongo_max_pool_size=JOB_WORKER_POOL_SIZE,
                repository_url=registry.repository_url,
                repository_arn=registry.repository_arn,
                image_tag=compute.image_tag,
                app_secret_arn=app_secret_arn,
                app_settings_digest=app_settings_digest,
                files_bucket_arn=files_bucket_arn,
                # The external Redis's port too with cacheMode external: it is the broker.
                egress=app_egress(config),
                backends=backends,
                log_retention_days=config.log_retention_days,
                guard=guard,
                boot_needs=boot_needs,
                tags=default_tags(config),
                datadog=datadog,
                alarm_actions=alarm_actions,
            ),
            opts=opts,
        )
    return ComputeTier(
        registry=registry, security_groups=security_groups, load_balancer=load_balancer, fleet=fleet, workers=workers
    )


def datadog_on_hosts(config: StackConfig, opts: pulumi.ResourceOptions) -> DatadogOnHosts | None:
    """datadogEnabled: the API key's own secret, and what the hosts need to run the agent; nothing otherwise."""
    if not config.datadog.enabled:
        return None
    key = DatadogApiKey(
        "datadog-api-key",
        DatadogApiKeyArgs(
            name_prefix=f"{config.project}-{config.stack}",
            api_key=pulumi.Output.secret(config.datadog.api_key.get_secret_value()),
        ),
        opts=opts,
    )
    return DatadogOnHosts(site=config.datadog.site, api_key_secret_arn=key.secret_arn)
