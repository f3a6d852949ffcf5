"""Rules that span several keys: what a production stack must have, and sizes that must agree."""

from __future__ import annotations

from infra.capacity.ec2_fleet import (
    DEPLOY_MAX_HEALTHY_PERCENT,
    UnknownVcpusError,
    ec2_fleet_budget,
    largest_fitting_fleet,
)
from infra.capacity.instance_types import vcpus_of
from infra.capacity.kubernetes_fleet import ROLLING_MAX_SURGE_PERCENT, pod_fleet_budget, worker_pod_requests
from infra.capacity.kubernetes_nodes import (
    DATADOG_AGENT_DAEMONSET,
    DATADOG_CLUSTER_AGENT,
    NO_RESOURCES,
    SYSTEM_PODS,
    Resources,
    allocatable,
    app_pod_capacity,
    node_shape,
    pods_fit,
    pods_per_node,
)
from infra.capacity.mongo_connections import ConnectionBudgetError
from infra.config.errors import ConfigProblem
from infra.config.keys import PROJECT_NAMESPACE
from infra.config.model import (
    AL2023_AMI_PARAMETER_PREFIX,
    ATLAS_CIDR,
    AlarmSettings,
    CacheMode,
    ComputePlatform,
    KubernetesSettings,
    NatStrategy,
    StackConfig,
    Tier,
    WafMode,
    WorkerPlacement,
    atlas_size_rank,
)


def _key(name: str) -> str:
    return f"{PROJECT_NAMESPACE}:{name}"


def cross_field_problems(config: StackConfig) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    compute = config.compute
    if not compute.min_size <= compute.desired_size <= compute.max_size:
        problems.append(
            ConfigProblem(
                _key("computeMinSize"),
                f"min {compute.min_size}, desired {compute.desired_size}, max {compute.max_size}: "
                "computeMinSize <= computeDesiredSize <= computeMaxSize is required",
            )
        )
    database = config.database
    ranks = [
        atlas_size_rank(size)
        for size in (database.min_instance_size, database.instance_size, database.max_instance_size)
    ]
    if not ranks[0] <= ranks[1] <= ranks[2]:
        problems.append(
            ConfigProblem(
                _key("atlasMinInstanceSize"),
                f"min {database.min_instance_size}, size {database.instance_size}, max {database.max_instance_size}:"
                " atlasMinInstanceSize <= atlasInstanceSize <= atlasMaxInstanceSize is required",
            )
        )
    if config.network.vpc_cidr.overlaps(ATLAS_CIDR):
        problems.append(
            ConfigProblem(
                _key("vpcCidr"),
                f"{config.network.vpc_cidr} overlaps {ATLAS_CIDR}, the range Atlas peers from: routes to the"
                " database would be ambiguous; pick a range in 10.0.0.0/8 or 172.16.0.0/12",
            )
        )
    if config.domain and not config.hosted_zone_id:
        problems.append(
            ConfigProblem(
                _key("hostedZoneId"),
                f"domain {config.domain} needs the Route 53 hosted zone that holds it, to validate its certificate:"
                " pulumi config set hostedZoneId Z...",
            )
        )
    if config.hosted_zone_id and not config.domain:
        problems.append(
            ConfigProblem(_key("hostedZoneId"), "is set without a domain, which would ignore it: set domain too")
        )
    cache = config.cache
    has_url = bool(cache.external_url.get_secret_value())
    if cache.mode is CacheMode.EXTERNAL and not has_url:
        problems.append(
            ConfigProblem(
                _key("externalRedisUrl"),
                "cacheMode is external, so a Redis URL is required: "
                "pulumi config set --secret externalRedisUrl rediss://...",
            )
        )
    if cache.mode is CacheMode.ELASTICACHE and has_url:
        problems.append(
            ConfigProblem(
                _key("externalRedisUrl"),
                "is set but cacheMode is elasticache, which would ignore it: remove it or set cacheMode external",
            )
        )
    if config.is_production:
        problems.extend(_production_problems(config))
    problems.extend(_kubernetes_problems(config))
    problems.extend(_connection_budget_problems(config))
    problems.extend(_operations_problems(config))
    problems.extend(_jobs_problems(config))
    problems.extend(_datadog_problems(config))
    return problems


def _connection_budget_problems(config: StackConfig) -> list[ConfigProblem]:
    """The app fleet at its largest (EC2 instances, or tier B's pods) must fit its share of the smallest Atlas
    tier it may run on (infra.capacity.mongo_connections)."""
    if config.platform is not ComputePlatform.EC2:
        return _pod_connection_budget_problems(config)
    compute, database = config.compute, config.database
    # The background job workers' connections come off the share first (infra.capacity.mongo_connections).
    job_workers = config.ec2_job_worker_connections
    try:
        ec2_fleet_budget(
            instance_type=compute.instance_type,
            max_size=compute.max_size,
            atlas_min_tier=database.min_instance_size,
            job_worker_connections=job_workers,
        )
    except UnknownVcpusError as error:
        return [ConfigProblem(_key("computeInstanceType"), str(error))]
    except ConnectionBudgetError as error:
        fitting = largest_fitting_fleet(
            instance_type=compute.instance_type,
            atlas_min_tier=database.min_instance_size,
            job_worker_connections=job_workers,
        )
        workers = (
            f", beside {job_workers} connections of the job workers (workerMaxSize, workerConcurrency)"
            if job_workers
            else ""
        )
        return [
            ConfigProblem(
                _key("atlasMinInstanceSize"),
                f"computeMaxSize {compute.max_size} x {compute.instance_type} (one worker per vCPU), at"
                f" {DEPLOY_MAX_HEALTHY_PERCENT}% during a deploy{workers}, on an Atlas cluster that may scale down"
                f" to {database.min_instance_size}: {error}. Lower computeMaxSize (at most {fitting} fits),"
                " workerMaxSize or workerConcurrency, pick a smaller computeInstanceType, or raise"
                " atlasMinInstanceSize",
            )
        ]
    return []


def _pod_connection_budget_problems(config: StackConfig) -> list[ConfigProblem]:
    settings, database = config.kubernetes, config.database
    try:
        pod_fleet_budget(
            cpu_request_millicores=settings.pod_cpu_millicores,
            max_replicas=settings.max_replicas,
            atlas_min_tier=database.min_instance_size,
            worker_max_replicas=settings.worker_max_replicas,
            worker_concurrency=config.jobs.worker_concurrency,
        )
    except ConnectionBudgetError as error:
        return [
            ConfigProblem(
                _key("atlasMinInstanceSize"),
                f"podMaxReplicas {settings.max_replicas} pods of podCpuRequestMillicores {settings.pod_cpu_millicores}"
                f" (one worker per CPU of the pod's limit) and workerPodMaxReplicas {settings.worker_max_replicas} job"
                f" worker pods of workerConcurrency {config.jobs.worker_concurrency} processes, at"
                f" {100 + ROLLING_MAX_SURGE_PERCENT}% during a rollout, on an Atlas cluster that may scale down to"
                f" {database.min_instance_size}: {error}. Lower podMaxReplicas, podCpuRequestMillicores,"
                " workerPodMaxReplicas or workerConcurrency, or raise atlasMinInstanceSize",
            )
        ]
    return []


# Tier B (EKS)
_KUBERNETES_DEFAULTS = KubernetesSettings()
ANYWHERE_IPV4 = "0.0.0.0/0"


def _kubernetes_problems(config: StackConfig) -> list[ConfigProblem]:
    settings = config.kubernetes
    if config.tier is not Tier.B:
        return [
            ConfigProblem(
                _key(info.alias or name),
                f"applies to tier B (EKS) only; tier {config.tier.value} runs on EC2 and would ignore it: remove it",
            )
            for name, info in KubernetesSettings.model_fields.items()
            if getattr(settings, name) != getattr(_KUBERNETES_DEFAULTS, name)
        ]
    problems: list[ConfigProblem] = []
    if settings.min_replicas > settings.max_replicas:
        problems.append(
            ConfigProblem(
                _key("podMinReplicas"),
                f"min {settings.min_replicas}, max {settings.max_replicas}: podMinReplicas <= podMaxReplicas is"
                " required",
            )
        )
    if settings.worker_min_replicas > settings.worker_max_replicas:
        problems.append(
            ConfigProblem(
                _key("workerPodMinReplicas"),
                f"min {settings.worker_min_replicas}, max {settings.worker_max_replicas}: workerPodMinReplicas <="
                " workerPodMaxReplicas is required",
            )
        )
    problems.extend(_node_capacity_problems(config))
    if config.is_production:
        if settings.worker_min_replicas < 2:
            problems.append(
                ConfigProblem(
                    _key("workerPodMinReplicas"),
                    f"{settings.worker_min_replicas}: production allows no single point of failure; run at least 2"
                    " job worker pods",
                )
            )
        if ANYWHERE_IPV4 in settings.public_access_cidr_list:
            problems.append(
                ConfigProblem(
                    _key("clusterPublicAccessCidrs"),
                    "0.0.0.0/0 opens the cluster's API endpoint to the whole internet, refused in production: list"
                    " the addresses that run `pulumi up` and kubectl, or leave it empty (private endpoint only)",
                )
            )
        zones = config.network.az_count
        if settings.min_replicas < zones:
            problems.append(
                ConfigProblem(
                    _key("podMinReplicas"),
                    f"{settings.min_replicas}: production allows no single point of failure; run at least one pod"
                    f" per AZ ({zones})",
                )
            )
    return problems


def _node_capacity_problems(config: StackConfig) -> list[ConfigProblem]:
    """The app's pods at the autoscaler's maximum must fit the node group at its maximum, or the extra pods would
    stay Pending exactly when the load needs them."""
    compute, settings = config.compute, config.kubernetes
    try:
        shape = node_shape(compute.instance_type)
    except ValueError as error:
        return [ConfigProblem(_key("computeInstanceType"), f"tier B: {error}")]
    request = Resources(settings.pod_cpu_millicores, settings.pod_memory_mib)
    room = allocatable(shape)
    if pods_per_node(shape, request) == 0:
        return [
            ConfigProblem(
                _key("podCpuRequestMillicores"),
                f"a pod requesting {request.cpu_millicores}m CPU and {request.memory_mib} MiB fits no"
                f" {shape.instance_type} node ({room.cpu_millicores}m and {room.memory_mib} MiB allocatable after the"
                " kubelet and DaemonSets): lower podCpuRequestMillicores/podMemoryRequestMib or use a larger"
                " computeInstanceType",
            )
        ]
    capacity = app_pod_capacity(shape, compute.max_size, request)
    if settings.max_replicas > capacity:
        return [
            ConfigProblem(
                _key("podMaxReplicas"),
                f"{settings.max_replicas} pods of {request.cpu_millicores}m CPU / {request.memory_mib} MiB do not fit"
                f" computeMaxSize {compute.max_size} x {shape.instance_type} nodes, which hold"
                f" {pods_per_node(shape, request)} a node and {capacity} in all beside the cluster's system pods:"
                " lower podMaxReplicas or the pod requests, or raise computeMaxSize",
            )
        ]
    return _job_worker_capacity_problems(config, request)


def _job_worker_capacity_problems(config: StackConfig, request: Resources) -> list[ConfigProblem]:
    """The job workers share the app's nodes. At the minimum (both autoscalers at rest) the app's and the workers'
    minimum pods and the cluster's own must fit computeMinSize nodes, or the cluster never rests at its minimum
    (and its cost is more than priced); at the maximum, both maxima must fit computeMaxSize nodes, or workers
    stay Pending while the queue grows. Between the two the Cluster Autoscaler adds nodes as pods wait."""
    compute, settings = config.compute, config.kubernetes
    shape = node_shape(compute.instance_type)
    worker = worker_pod_requests(config.jobs.worker_concurrency)
    system = [(count, pod) for _, count, pod in SYSTEM_PODS]
    daemonsets = NO_RESOURCES
    if config.datadog.enabled:
        _, count, pod = DATADOG_CLUSTER_AGENT
        system.append((count, pod))
        daemonsets = DATADOG_AGENT_DAEMONSET
    problems: list[ConfigProblem] = []
    for nodes_key, nodes, app, workers, keys in (
        ("computeMinSize", compute.min_size, settings.min_replicas, settings.worker_min_replicas, "Min"),
        ("computeMaxSize", compute.max_size, settings.max_replicas, settings.worker_max_replicas, "Max"),
    ):
        pods = [*system, (app, request), (workers, worker)]
        if not pods_fit(shape, nodes, pods, daemonsets):
            problems.append(
                ConfigProblem(
                    _key(f"workerPod{keys}Replicas"),
                    f"pod{keys}Replicas {app} app pods ({request.cpu_millicores}m / {request.memory_mib} MiB) and"
                    f" workerPod{keys}Replicas {workers} job worker pods ({worker.cpu_millicores}m /"
                    f" {worker.memory_mib} MiB at workerConcurrency {config.jobs.worker_concurrency}), with the"
                    " cluster's"
                    f" own pods{' and the Datadog Agent' if config.datadog.enabled else ''}, do not fit {nodes_key}"
                    f" {nodes} x {shape.instance_type} nodes: lower the replicas or raise {nodes_key}",
                )
            )
    return problems


def _production_problems(config: StackConfig) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    plain_http = [origin for origin in config.cors_origins if origin.startswith("http://")]
    if plain_http:
        problems.append(
            ConfigProblem(
                _key("corsOrigins"),
                f"{', '.join(plain_http)}: production admits https:// origins only (a page served over plain HTTP"
                " can be altered in transit, and would then act with its users' credentials)",
            )
        )
    why = "production allows no single point of failure"
    if config.network.az_count < 3:
        problems.append(ConfigProblem(_key("azCount"), f"{config.network.az_count} AZs: {why}; use 3 or more"))
    if config.network.nat_strategy is NatStrategy.SINGLE:
        problems.append(ConfigProblem(_key("natStrategy"), f"single: {why}; use one-per-az"))
    if config.network.nat_strategy is NatStrategy.INSTANCE:
        problems.append(
            ConfigProblem(
                _key("natStrategy"),
                f"instance: {why} (one NAT instance in one AZ, minutes to replace when it fails); the NAT instance is"
                " for development stacks only: use one-per-az",
            )
        )
    if not config.https_enabled:
        problems.append(
            ConfigProblem(
                _key("domain"),
                "production requires HTTPS, which needs a domain: pulumi config set domain api.example.com",
            )
        )
    if config.compute.min_size < 2:
        problems.append(ConfigProblem(_key("computeMinSize"), f"{config.compute.min_size}: {why}; use 2 or more"))
    if config.platform is ComputePlatform.EC2 and config.compute.pinned_ami is None:
        architecture = "arm64" if config.compute.is_graviton else "x86_64"
        problems.append(
            ConfigProblem(
                _key("computeAmiId"),
                "latest: production pins its AMI, so an Amazon Linux release replaces the fleet only when you choose,"
                " not on the next unrelated pulumi up. Print the current one and pin it: aws ssm get-parameter"
                f" --region {config.region} --name {AL2023_AMI_PARAMETER_PREFIX}{architecture} --query"
                " Parameter.Value --output text; then pulumi config set computeAmiId ami-...",
            )
        )
    cache = config.cache
    if cache.mode is CacheMode.ELASTICACHE and cache.replicas < 1:
        problems.append(ConfigProblem(_key("cacheReplicas"), f"0: {why}; use 1 or more (automatic failover)"))
    if cache.mode is CacheMode.EXTERNAL and cache.external_url.get_secret_value().startswith("redis://"):
        problems.append(
            ConfigProblem(_key("externalRedisUrl"), "production requires TLS to Redis: use a rediss:// URL")
        )
    return problems


# Operations (issue 12)
_ALARM_DEFAULTS = AlarmSettings()
_CACHE_ALARMS = (
    "cache_cpu_percent",
    "cache_memory_percent",
    "cache_evictions_per_minute",
    "cache_replication_lag_seconds",
)


def _operations_problems(config: StackConfig) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    if config.is_production and config.firewall.mode is WafMode.COUNT:
        problems.append(
            ConfigProblem(
                _key("wafMode"),
                "count: production blocks what the web ACLs' rules match; tune them in count mode on a development"
                " stack, then remove wafMode here (block is the default)",
            )
        )
    if config.cache.mode is CacheMode.EXTERNAL:
        problems.extend(
            ConfigProblem(
                _key(AlarmSettings.model_fields[name].alias or name),
                "applies to the ElastiCache cache only; cacheMode is external, whose Redis this program does not"
                " monitor, so it would be ignored: remove it",
            )
            for name in _CACHE_ALARMS
            if getattr(config.alarms, name) != getattr(_ALARM_DEFAULTS, name)
        )
    return problems


# Background jobs and Datadog (issue 16)
def _jobs_problems(config: StackConfig) -> list[ConfigProblem]:
    jobs = config.jobs
    problems: list[ConfigProblem] = []
    if jobs.worker_min_size > jobs.worker_max_size:
        problems.append(
            ConfigProblem(
                _key("workerMinSize"),
                f"min {jobs.worker_min_size}, max {jobs.worker_max_size}: workerMinSize <= workerMaxSize is required",
            )
        )
    if jobs.worker_placement is WorkerPlacement.COLOCATED:
        if config.tier is not Tier.C:
            problems.append(
                ConfigProblem(
                    _key("workerPlacement"),
                    f"colocated is for tier C only (the budget shape); tier {config.tier.value} runs its workers"
                    " apart from the API: use dedicated",
                )
            )
        if config.is_production:
            problems.append(
                ConfigProblem(
                    _key("workerPlacement"),
                    "colocated: production runs its workers on their own fleet, so a burst of jobs never takes the"
                    " API's CPU and the workers scale on queue depth; use dedicated",
                )
            )
    if config.is_production and config.dedicated_workers and jobs.worker_min_size < 2:
        problems.append(
            ConfigProblem(
                _key("workerMinSize"),
                f"{jobs.worker_min_size}: production allows no single point of failure; use 2 or more",
            )
        )
    if config.dedicated_workers and _vcpus_unknown(jobs.worker_instance_type):
        problems.append(
            ConfigProblem(
                _key("workerInstanceType"),
                f"the size of {jobs.worker_instance_type} does not follow from its name; pick a sized type such as"
                " c7g.large or t4g.small",
            )
        )
    return problems


def _vcpus_unknown(instance_type: str) -> bool:
    return vcpus_of(instance_type) is None


def _datadog_problems(config: StackConfig) -> list[ConfigProblem]:
    datadog = config.datadog
    has_key = bool(datadog.api_key.get_secret_value())
    if datadog.enabled and not has_key:
        return [
            ConfigProblem(
                _key("datadogApiKey"),
                "datadogEnabled is true, so the agent needs an API key: pulumi config set --secret datadogApiKey"
                " <key> (Organization Settings > API Keys in Datadog)",
            )
        ]
    if not datadog.enabled and has_key:
        return [
            ConfigProblem(
                _key("datadogApiKey"),
                "is set but datadogEnabled is false, which would ignore it: set datadogEnabled true, or remove it",
            )
        ]
    return []
