"""The Pulumi program: one stack's whole environment, built from its validated config.

`main` is what `pulumi up` runs (through `__main__.py`) and what the offline plan runs under the mock engine;
`allow_placeholders` is the only difference, and it is the plan's alone.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.capacity.kubernetes_fleet import pod_fleet_budget
from infra.components.compute.compute_tier import build_compute_tier, internet_ports
from infra.components.data.data_tier import build_data_tier, needs_certificate_provider
from infra.components.entry.security_group_rules import BackendAccess
from infra.components.kubernetes.kubernetes_tier import APP_NAMESPACE, build_kubernetes_tier
from infra.components.network import Network, NetworkArgs
from infra.components.operations.operations_tier import build_alert_routing, build_cdn_firewall, build_operations
from infra.components.s3_endpoint_policy import S3EndpointPolicy, S3EndpointPolicyArgs
from infra.config import StackConfig, load_stack_config
from infra.config.model import ComputePlatform
from infra.planning.operations.alarms import Ec2Fleet, EksFleet
from infra.planning.protection import protection_for
from infra.planning.tags import default_tags
from infra.planning.zones import zone_instance_types


def pod_environment(config: StackConfig) -> dict[str, str]:
    """Tier B's pods get their workers and MongoDB pool from the same connection budget the config validated."""
    budget = pod_fleet_budget(
        cpu_request_millicores=config.kubernetes.pod_cpu_millicores,
        max_replicas=config.kubernetes.max_replicas,
        atlas_min_tier=config.database.min_instance_size,
        # The job workers' processes share the budget (issue 16, tier B).
        worker_max_replicas=config.kubernetes.worker_max_replicas,
        worker_concurrency=config.jobs.worker_concurrency,
    )
    return {"GUNICORN_WORKERS": str(budget.workers_per_pod), "MONGO_MAX_POOL_SIZE": str(budget.mongo.pool_per_worker)}


def main(*, allow_placeholders: bool = False) -> None:
    # Validation raises before the first resource is registered: a bad config never half-applies.
    config = load_stack_config(allow_placeholders=allow_placeholders)
    build(config)


def build(config: StackConfig) -> None:
    name_prefix = f"{config.project}-{config.stack}"
    # One explicit provider: its default tags reach every taggable AWS resource, and no resource can silently
    # fall back to an untagged default provider (the tests check every AWS resource uses this one).
    aws_provider = aws.Provider(
        "aws",
        region=config.region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(config)),
    )
    with_aws = pulumi.ResourceOptions(providers=[aws_provider])
    # CloudFront takes ACM certificates and web ACLs from us-east-1 only: a second provider, same tags, just for that.
    certificate_provider = (
        aws.Provider(
            "aws-us-east-1",
            region="us-east-1",
            default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(config)),
        )
        if needs_certificate_provider(config)
        else None
    )

    network = Network(
        "network",
        NetworkArgs(
            name_prefix=name_prefix,
            region=config.region,
            vpc_cidr=config.network.vpc_cidr,
            az_count=config.network.az_count,
            instance_types=zone_instance_types(config),
            nat_strategy=config.network.nat_strategy,
            flow_log_retention_days=config.log_retention_days,
            guard=protection_for(config.is_production),
            tags=default_tags(config),
            nat_instance_ports=internet_ports(config),
        ),
        opts=with_aws,
    )

    # Where every alarm goes, before anything that alarms; the CDN's firewall before the distribution naming it.
    alerts = build_alert_routing(config, with_aws)
    cdn_firewall = build_cdn_firewall(config, certificate_provider)

    # The data tier: before compute, which receives only the secret's ARN, the bucket and the cache's group.
    data_tier = build_data_tier(
        config,
        network,
        with_aws,
        certificate_provider,
        cdn_web_acl_arn=cdn_firewall.web_acl_arn if cdn_firewall is not None else None,
    )
    app_secret = data_tier.app_secret
    files = data_tier.files
    cache = data_tier.cache  # None with cacheMode external
    # The VPC's S3 endpoint admits the stack's buckets, Amazon Linux's and ECR's, nothing else; set now that the
    # buckets exist (the network came first).
    s3_endpoint_policy = S3EndpointPolicy(
        "s3-endpoint",
        S3EndpointPolicyArgs(
            endpoint_id=network.s3_endpoint_id, region=config.region, stack_bucket_arns=[files.bucket_arn]
        ),
        opts=with_aws,
    )

    # Compute on EC2 (tiers A and C); tier B runs the app on EKS instead.
    compute = None
    if config.platform is ComputePlatform.EC2:
        compute = build_compute_tier(
            config,
            network,
            app_secret_arn=app_secret.arn,
            # A changed secret (a JWT key rotation, say) rolls the fleet: the instances read it only at start.
            app_settings_digest=app_secret.settings_digest,
            files_bucket_arn=files.bucket_arn,
            backends=[BackendAccess("cache", cache.security_group_id, cache.port, "Redis TLS from the app")]
            if cache is not None
            else [],
            # First boot reads the secret (a component: depending on it waits for its version too), connects as
            # the database user over the peering, and pulls packages and the image through the NAT.
            boot_needs=[app_secret, *data_tier.database.app_ready, *network.private_egress, s3_endpoint_policy],
            opts=with_aws,
            alarm_actions=[alerts.topic_arn],
        )

    # Tier B: the app on EKS, behind the same load balancer component.
    kubernetes = None
    if config.platform is ComputePlatform.EKS:
        kubernetes = build_kubernetes_tier(
            config,
            network,
            app_secret_arn=app_secret.arn,
            app_settings=app_secret.settings,
            files_bucket_arn=files.bucket_arn,
            backends=[BackendAccess("cache", cache.security_group_id, cache.port, "Redis TLS from the app pods")]
            if cache is not None
            else [],
            # The pods connect as the database user over the peering and reach AWS through the NAT: the rollout
            # `pulumi up` waits for could never become Ready before those exist.
            start_needs=[*data_tier.database.app_ready, *network.private_egress, s3_endpoint_policy],
            extra_environment=pod_environment(config),
            opts=with_aws,
        )

    # The firewall on the load balancer, the alarms and the dashboard, the budget, the audit trail: every tier.
    if compute is not None:
        operations = build_operations(
            config,
            network=network,
            alerts=alerts,
            load_balancer=compute.load_balancer,
            fleet=Ec2Fleet(compute.fleet.auto_scaling_group_name),
            healthy_minimum=config.compute.min_size,
            cache=cache,
            cdn_firewall=cdn_firewall,
            other_alarms=[
                *compute.fleet.deploy_alarms,
                *([compute.workers.capacity_alarm] if compute.workers is not None else []),
            ],
            opts=with_aws,
        )
    else:
        assert kubernetes is not None
        operations = build_operations(
            config,
            network=network,
            alerts=alerts,
            load_balancer=kubernetes.load_balancer,
            fleet=EksFleet(kubernetes.cluster.cluster_name),
            healthy_minimum=config.kubernetes.min_replicas,
            cache=cache,
            cdn_firewall=cdn_firewall,
            app_namespace=APP_NAMESPACE,
            opts=with_aws,
        )

    pulumi.export("tier", config.tier.value)
    pulumi.export("environment", config.environment.value)
    # The image the stack runs: CI previews and drift checks use it in place of the stack file's placeholder.
    pulumi.export("appImageTag", config.compute.image_tag)
    pulumi.export("region", config.region)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("availabilityZones", network.availability_zones)
    pulumi.export("availabilityZoneIds", network.availability_zone_ids)
    pulumi.export("publicSubnetIds", network.public_subnet_ids)
    pulumi.export("privateSubnetIds", network.private_subnet_ids)
    pulumi.export("isolatedSubnetIds", network.isolated_subnet_ids)
    pulumi.export("atlasProjectId", data_tier.database.project_id)
    pulumi.export("atlasClusterName", data_tier.database.cluster_name)
    pulumi.export("cacheEndpoint", cache.primary_endpoint if cache is not None else None)
    pulumi.export("uploadsBucket", files.bucket_name)
    pulumi.export("cdnDomain", files.cdn_domain)
    pulumi.export("appSecretArn", app_secret.arn)
    pulumi.export("alertTopicArn", alerts.topic_arn)
    pulumi.export("dashboardName", operations.monitoring.dashboard_name)
    pulumi.export("albWebAclArn", operations.alb_firewall.web_acl_arn)
    pulumi.export("cdnWebAclArn", cdn_firewall.web_acl_arn if cdn_firewall is not None else None)
    pulumi.export("budgetName", operations.budget.budget_name)
    pulumi.export("auditTrailArn", operations.audit_trail.trail_arn if operations.audit_trail is not None else None)
    # The app's way in and its image, whichever platform runs it.
    app_tier = compute or kubernetes
    if app_tier is not None:
        pulumi.export("url", app_tier.load_balancer.url)
        pulumi.export("albDnsName", app_tier.load_balancer.dns_name)
        pulumi.export("targetGroupName", app_tier.load_balancer.target_group_name)
        pulumi.export("imageRepositoryUrl", app_tier.registry.repository_url)
    if compute is not None:
        pulumi.export("autoScalingGroupName", compute.fleet.auto_scaling_group_name)
        pulumi.export("appLogGroup", compute.fleet.log_group_name)
        if compute.workers is not None:
            pulumi.export("workerAutoScalingGroupName", compute.workers.auto_scaling_group_name)
            pulumi.export("workerLogGroup", compute.workers.log_group_name)
    if kubernetes is not None:
        pulumi.export("targetGroupArn", kubernetes.load_balancer.target_group_arn)
        # verify's capacity check on tier B: the target group must hold at least this many healthy pods.
        pulumi.export("appMinReplicas", config.kubernetes.min_replicas)
        pulumi.export("clusterName", kubernetes.cluster.cluster_name)
        pulumi.export("kubeconfig", kubernetes.cluster.kubeconfig)
