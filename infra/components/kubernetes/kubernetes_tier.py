"""The compute half of a tier B stack, wired from its config: the image repository, the EKS cluster, its add-ons
and node group, the entry (security groups and the tiers' load balancer with an IP target group), the load
balancer controller and the autoscaler, and the app.

Built after the data tier, which it reaches through inputs only: the app secret's ARN and settings document,
the files bucket's ARN and the backends' security groups (this side adds the one ingress rule into each).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi

from infra.capacity.kubernetes_fleet import worker_pod_requests
from infra.capacity.kubernetes_nodes import Resources
from infra.catalog.kubernetes_versions import ADDONS_AFTER_NODES, ADDONS_BEFORE_NODES, cluster_version
from infra.components.entry.builders import public_load_balancer
from infra.components.entry.load_balancer import LoadBalancer, listener_ports
from infra.components.entry.security_group_rules import BackendAccess
from infra.components.kubernetes.addons import ClusterAddons, ClusterAddonsArgs
from infra.components.kubernetes.app_workload import AppWorkload, AppWorkloadArgs
from infra.components.kubernetes.cluster import EksCluster, EksClusterArgs
from infra.components.kubernetes.controllers import ClusterAutoscaler, ControllerArgs, Keda, LoadBalancerController
from infra.components.kubernetes.datadog_agent import DatadogAgent, DatadogAgentArgs
from infra.components.kubernetes.job_workers import JobWorkers, JobWorkersArgs
from infra.components.kubernetes.node_group import EksNodeGroup, EksNodeGroupArgs
from infra.components.kubernetes.observability import ContainerInsights, ContainerInsightsArgs
from infra.components.kubernetes.security_groups import EntrySecurityGroups, EntrySecurityGroupsArgs
from infra.components.network import Network
from infra.components.registry import ImageRepository, image_repository
from infra.config import StackConfig
from infra.config.model import CacheMode
from infra.planning.compute.health_check import APP_PORT
from infra.planning.compute.image import image_reference
from infra.planning.compute.scaling import FleetSize
from infra.planning.kubernetes import jobs
from infra.planning.kubernetes.datadog import API_SERVICE, WORKER_SERVICE, DatadogTracing
from infra.planning.kubernetes.workload import AppWorkloadSpec, settings_checksum
from infra.planning.protection import protection_for
from infra.planning.tags import default_tags

APP_NAMESPACE = "contentry"
APP_NAME = "api"


@dataclass(frozen=True)
class KubernetesTier:
    registry: ImageRepository
    cluster: EksCluster
    nodes: EksNodeGroup
    load_balancer: LoadBalancer
    app: AppWorkload
    container_insights: ContainerInsights
    jobs: JobWorkers


def build_kubernetes_tier(
    config: StackConfig,
    network: Network,
    *,
    app_secret_arn: pulumi.Input[str],
    app_settings: pulumi.Output[str],
    files_bucket_arn: pulumi.Input[str],
    backends: Sequence[BackendAccess],
    opts: pulumi.ResourceOptions,
    start_needs: Sequence[pulumi.Resource] = (),
    extra_environment: Mapping[str, str] | None = None,
) -> KubernetesTier:
    """`start_needs`: what a new pod connects through before it can be Ready (the database user and access list,
    the routes to Atlas and through the NAT); the Deployment waits for them."""
    name_prefix = f"{config.project}-{config.stack}"
    guard = protection_for(config.is_production)
    settings = config.kubernetes
    versions = cluster_version(settings.version)
    registry = image_repository(config, opts)
    cluster = EksCluster(
        "cluster",
        EksClusterArgs(
            name_prefix=name_prefix,
            cluster_name=name_prefix,
            region=config.region,
            version=settings.version,
            subnet_ids=network.private_subnet_ids,
            public_access_cidrs=settings.public_access_cidr_list,
            admin_role_arn=settings.admin_role_arn,
            log_retention_days=config.log_retention_days,
            guard=guard,
        ),
        opts=opts,
    )
    node_addons = ClusterAddons(
        "node-addons",
        ClusterAddonsArgs(name_prefix, cluster.cluster_name, versions, ADDONS_BEFORE_NODES),
        opts=opts,
    )
    compute = config.compute
    nodes = EksNodeGroup(
        "nodes",
        EksNodeGroupArgs(
            name_prefix=name_prefix,
            cluster_name=cluster.cluster_name,
            kubernetes_version=cluster.version,
            subnet_ids=network.private_subnet_ids,
            instance_type=compute.instance_type,
            is_graviton=compute.is_graviton,
            size=FleetSize(compute.min_size, compute.desired_size, compute.max_size),
            disk_gb=compute.root_volume_gb,
            tags=default_tags(config),
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[node_addons])),
    )
    system_addons = ClusterAddons(
        "system-addons",
        ClusterAddonsArgs(name_prefix, cluster.cluster_name, versions, ADDONS_AFTER_NODES),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[nodes])),
    )
    # Node and pod metrics for the alarms and the dashboard, and the containers' logs in CloudWatch. After the
    # nodes: the add-on runs a Deployment besides its DaemonSets, which stays DEGRADED with no node to run on.
    container_insights = ContainerInsights(
        "container-insights",
        ContainerInsightsArgs(
            name_prefix=name_prefix,
            cluster_name=name_prefix,
            cluster=cluster.cluster_name,
            versions=versions,
            log_retention_days=config.log_retention_days,
            guard=guard,
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[nodes])),
    )
    security_groups = EntrySecurityGroups(
        "security-groups",
        EntrySecurityGroupsArgs(
            name_prefix=name_prefix,
            vpc_id=network.vpc_id,
            pod_security_group_id=cluster.security_group_id,
            app_port=APP_PORT,
            listener_ports=listener_ports(https=config.https_enabled),
            backends=backends,
        ),
        opts=opts,
    )
    load_balancer = public_load_balancer(
        config,
        network,
        security_group_id=security_groups.load_balancer_security_group_id,
        target_type="ip",
        opts=opts,
    )
    controllers = ControllerArgs(
        name_prefix=name_prefix,
        cluster_name=cluster.cluster_name,
        region=config.region,
        provider=cluster.provider,
        ready=[nodes, system_addons],
    )
    load_balancer_controller = LoadBalancerController(
        "load-balancer-controller",
        controllers,
        vpc_id=network.vpc_id,
        target_group_arn=load_balancer.target_group_arn,
        opts=opts,
    )
    worker_grace = jobs.termination_grace_seconds(config.jobs.time_limit_seconds)
    ClusterAutoscaler(
        "cluster-autoscaler", controllers, versions=versions, longest_grace_seconds=worker_grace, opts=opts
    )
    if config.datadog.enabled:
        DatadogAgent(
            "datadog",
            DatadogAgentArgs(
                cluster_name=cluster.cluster_name,
                site=config.datadog.site,
                api_key=pulumi.Output.secret(config.datadog.api_key.get_secret_value()),
                provider=cluster.provider,
                ready=[nodes, system_addons],
            ),
            opts=opts,
        )
    spec = AppWorkloadSpec(
        namespace=APP_NAMESPACE,
        name=APP_NAME,
        kubernetes_version=settings.version,
        image=registry.repository_url.apply(lambda url: image_reference(url, compute.image_tag)),
        release=compute.image_tag,
        region=config.region,
        requests=Resources(settings.pod_cpu_millicores, settings.pod_memory_mib),
        min_replicas=settings.min_replicas,
        max_replicas=settings.max_replicas,
        settings_secret_name=f"{APP_NAME}-settings",
        # A digest of secret values, safe to show: the plan and `pulumi preview` then say when pods will roll.
        settings_checksum=pulumi.Output.unsecret(app_settings.apply(settings_checksum)),
        service_account_name=APP_NAME,
        extra_environment={
            **(extra_environment or {}),
            "JOB_TIME_LIMIT_SECONDS": str(config.jobs.time_limit_seconds),
        },
        tracing=_tracing(config, API_SERVICE),
    )
    app = AppWorkload(
        "app",
        AppWorkloadArgs(
            name_prefix=name_prefix,
            spec=spec,
            settings=app_settings,
            cluster_name=cluster.cluster_name,
            app_secret_arn=app_secret_arn,
            files_bucket_arn=files_bucket_arn,
            target_group_arn=load_balancer.target_group_arn,
            provider=cluster.provider,
            load_balancer_ready=[load_balancer_controller.release, load_balancer.forwarding_listener],
            start_needs=list(start_needs),
        ),
        opts=opts,
    )
    keda = Keda(
        "keda",
        controllers,
        kubernetes_version=settings.version,
        watch_namespace=APP_NAMESPACE,
        watched=[app.namespace_resource],
        opts=opts,
    )
    redis_tls, redis_database = _redis_tls_and_database(config)
    job_spec = jobs.JobsSpec(
        namespace=APP_NAMESPACE,
        kubernetes_version=settings.version,
        image=spec.image,
        release=compute.image_tag,
        region=config.region,
        stack=config.stack,
        concurrency=config.jobs.worker_concurrency,
        job_time_limit_seconds=config.jobs.time_limit_seconds,
        worker_requests=worker_pod_requests(config.jobs.worker_concurrency),
        min_replicas=settings.worker_min_replicas,
        max_replicas=settings.worker_max_replicas,
        queue_depth_target=config.jobs.queue_depth_target_per_worker,
        settings_secret_name=spec.settings_secret_name,
        settings_checksum=spec.settings_checksum,
        redis_tls=redis_tls,
        redis_database=redis_database,
        worker_tracing=_tracing(config, WORKER_SERVICE),
        # The same pool as the app's processes: the connection budget counts every worker process too.
        extra_environment={
            key: value for key, value in (extra_environment or {}).items() if key == "MONGO_MAX_POOL_SIZE"
        },
    )
    job_workers = JobWorkers(
        "jobs",
        JobWorkersArgs(
            name_prefix=name_prefix,
            spec=job_spec,
            cluster_name=cluster.cluster_name,
            app_secret_arn=app_secret_arn,
            files_bucket_arn=files_bucket_arn,
            redis_url=pulumi.Output.secret(app_settings.apply(lambda document: json.loads(document)["REDIS_URL"])),
            provider=cluster.provider,
            app_ready=[app.namespace_resource, app.settings_secret],
            keda_namespace=keda.namespace,
            keda_release=keda.release,
            start_needs=list(start_needs),
        ),
        opts=opts,
    )
    return KubernetesTier(
        registry=registry,
        cluster=cluster,
        nodes=nodes,
        load_balancer=load_balancer,
        app=app,
        container_insights=container_insights,
        jobs=job_workers,
    )


def _tracing(config: StackConfig, service: str) -> DatadogTracing | None:
    if not config.datadog.enabled:
        return None
    return DatadogTracing(service=service, env=config.stack, version=config.compute.image_tag)


def _redis_tls_and_database(config: StackConfig) -> tuple[bool, int]:
    """TLS and the database index of the app's REDIS_URL, which KEDA's scaler takes as settings (not as a URL):
    ElastiCache's URL is always rediss://...:6379/0 (infra/planning/data/connection_urls.py); an external one
    says both in its scheme and path, neither of them secret."""
    if config.cache.mode is CacheMode.ELASTICACHE:
        return True, 0
    url = config.cache.external_url.get_secret_value()
    return urlsplit(url).scheme == "rediss", jobs.redis_database(url)
