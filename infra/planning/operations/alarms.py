"""The stack's alarms as data: what each one watches (namespace, metric, dimensions, statistic), the metric math,
the threshold, the window and what missing data means. The monitoring component turns each spec into one
CloudWatch alarm with the stack's alert topic as its alarm and OK action.

Metric names, dimensions and statistics are AWS's (the ELB, EC2, ElastiCache, NAT gateway and Container Insights
metric references in the CloudWatch docs); the dimension values (ARN suffixes, group and cluster names, node and
gateway ids) are the resources' outputs, passed through untouched.

Missing data is decided per alarm, with the reason beside it:
- `notBreaching` where a metric is published only when something happens: the load balancer's request and
  error metrics (no traffic, no datapoint), a NAT gateway's errors, a replica-only metric on the primary.
- `breaching` where silence itself is the incident: healthy targets (the load balancer reports them every minute
  while it has any), and the hosts' gauges (published every minute by every instance or node: silence on all of
  them for the whole window means none runs, or the agent is broken everywhere and nobody sees memory or disk).
- `ignore` for the cache's gauges: a node replacement, a failover or a maintenance leaves a gap of minutes that
  is routine, and a lost node shows in the app's errors and readiness; the alarm keeps its state through it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

import pulumi

from infra.config.model import AlarmSettings
from infra.planning.compute.health_check import HEALTH_CHECK_GRACE_PERIOD_SECONDS
from infra.planning.compute.instance_policy import CLOUDWATCH_AGENT_NAMESPACE
from infra.planning.compute.scaling import DEPLOY_ERROR_RATE_EXPRESSION


class MissingData(StrEnum):
    NOT_BREACHING = "notBreaching"
    BREACHING = "breaching"
    IGNORE = "ignore"


GREATER = "GreaterThanThreshold"
LESS = "LessThanThreshold"
MINUTE: Final = 60

ELB_NAMESPACE: Final = "AWS/ApplicationELB"
EC2_NAMESPACE: Final = "AWS/EC2"
CACHE_NAMESPACE: Final = "AWS/ElastiCache"
NAT_NAMESPACE: Final = "AWS/NATGateway"
CONTAINER_INSIGHTS_NAMESPACE: Final = "ContainerInsights"

SUSTAINED_MINUTES: Final = 5
"""The seed's "for 5 minutes": latency, errors and the hosts' gauges must hold that long to page."""
HEALTHY_HOSTS_MINUTES: Final = math.ceil(HEALTH_CHECK_GRACE_PERIOD_SECONDS / MINUTE) + 2
"""Longer than one instance's routine replacement (detection, then a boot within the health check grace period):
one replaced instance does not page; a fleet that stays below its minimum does."""
CACHE_MEMORY_PERIOD: Final = 5 * MINUTE
CACHE_MEMORY_PERIODS: Final = 3
"""Memory fills slowly: 15 minutes above the threshold, in 5-minute steps."""
CACHE_EVICTION_MINUTES: Final = 10
"""Evictions in bursts are a full LRU cache doing its job; ten minutes of them mean the working set no longer
fits the node."""
NAT_ERROR_MINUTES: Final = 5
"""Any port allocation error in 5 minutes alarms (ErrorPortAllocation above 0 means connections are being
dropped: the gateway ran out of source ports to one destination), and the alarm clears after 5 quiet minutes."""


@dataclass(frozen=True)
class MetricRef:
    query_id: str
    """The metric's id in the alarm's metric math (lower case first, letters, digits and _)."""
    namespace: str
    name: str
    dimensions: Mapping[str, pulumi.Input[str]]
    stat: str
    period: int = MINUTE


@dataclass(frozen=True)
class AlarmSpec:
    slug: str
    """`<prefix>-<slug>` is the alarm's name (what the page says) and `<component>-<slug>` its logical name."""
    description: str
    metrics: tuple[MetricRef, ...]
    expression: str | None
    """Metric math over the metrics (their ids); None when the alarm watches its only metric directly."""
    expression_label: str
    comparison: str
    threshold: float
    periods: int
    """Evaluation periods of the metrics' period."""
    datapoints: int
    """How many of those periods must breach (M of N)."""
    missing_data: MissingData
    missing_data_reason: str

    def __post_init__(self) -> None:
        if not self.metrics:
            raise ValueError(f"alarm {self.slug} watches no metric")
        if self.expression is None and len(self.metrics) != 1:
            raise ValueError(f"alarm {self.slug}: several metrics need an expression that combines them")
        if not 1 <= self.datapoints <= self.periods:
            raise ValueError(f"alarm {self.slug}: {self.datapoints} of {self.periods} periods")
        if len({m.query_id for m in self.metrics}) != len(self.metrics):
            raise ValueError(f"alarm {self.slug}: metric ids repeat")

    @property
    def period(self) -> int:
        return min(metric.period for metric in self.metrics)

    @property
    def window_seconds(self) -> int:
        return self.period * self.periods


@dataclass(frozen=True)
class LoadBalancerTarget:
    """The ALB and the app's target group, as CloudWatch names them (their ARN suffixes)."""

    load_balancer: pulumi.Input[str]
    target_group: pulumi.Input[str]


@dataclass(frozen=True)
class Ec2Fleet:
    """Tiers A and C: the Auto Scaling group (EC2 metrics by group; the CloudWatch agent's, aggregated by group)."""

    auto_scaling_group: pulumi.Input[str]


@dataclass(frozen=True)
class EksFleet:
    """Tier B: the EKS cluster (Container Insights' node metrics by cluster)."""

    cluster_name: pulumi.Input[str]


def _ratio(value: Decimal | int) -> float:
    return float(value)


def traffic_alarms(target: LoadBalancerTarget, settings: AlarmSettings) -> list[AlarmSpec]:
    """The seed's first two alerts: p95 response time, and the share of 5xx answers."""
    group = {"LoadBalancer": target.load_balancer, "TargetGroup": target.target_group}
    no_traffic = (
        "the load balancer publishes these only for minutes with requests: no traffic is neither slow nor failing"
    )
    latency_seconds = settings.latency_p95_ms / 1000
    return [
        AlarmSpec(
            slug="api-latency-p95",
            description=(
                f"95th percentile response time of the app above {settings.latency_p95_ms} ms for"
                f" {SUSTAINED_MINUTES} minutes (TargetResponseTime, measured by the load balancer). Look at the"
                " dashboard's latency and the database and cache panels: a slow dependency shows there first"
            ),
            # TargetResponseTime is in seconds; p95 as an extended statistic.
            metrics=(MetricRef("latency", ELB_NAMESPACE, "TargetResponseTime", group, "p95"),),
            expression=None,
            expression_label="",
            comparison=GREATER,
            threshold=latency_seconds,
            periods=SUSTAINED_MINUTES,
            datapoints=SUSTAINED_MINUTES,
            missing_data=MissingData.NOT_BREACHING,
            missing_data_reason=no_traffic,
        ),
        AlarmSpec(
            slug="api-error-rate",
            description=(
                f"More than {settings.error_rate_percent}% of requests answered 5xx by the app or the load balancer"
                f" for {SUSTAINED_MINUTES} minutes. The load balancer's own 5xx (502/503/504) mean targets failing"
                " or missing; the app's mean its errors: read its log group"
            ),
            metrics=(
                MetricRef("target_errors", ELB_NAMESPACE, "HTTPCode_Target_5XX_Count", group, "Sum"),
                # The load balancer's own 5xx carry no target group dimension; it serves only this app.
                MetricRef(
                    "elb_errors", ELB_NAMESPACE, "HTTPCode_ELB_5XX_Count", {"LoadBalancer": target.load_balancer}, "Sum"
                ),
                MetricRef("requests", ELB_NAMESPACE, "RequestCount", group, "Sum"),
            ),
            # The same expression as the deploy alarm's (infra/planning/compute/scaling.py says why).
            expression=DEPLOY_ERROR_RATE_EXPRESSION,
            expression_label="5xx from the app or the load balancer (% of requests)",
            comparison=GREATER,
            threshold=_ratio(settings.error_rate_percent),
            periods=SUSTAINED_MINUTES,
            datapoints=SUSTAINED_MINUTES,
            missing_data=MissingData.NOT_BREACHING,
            missing_data_reason=no_traffic,
        ),
    ]


def healthy_hosts_alarm(target: LoadBalancerTarget, minimum: int, *, what: str) -> AlarmSpec:
    """Fewer healthy targets than the fleet's minimum (instances on tiers A and C, pods on tier B)."""
    if minimum < 1:
        raise ValueError(f"a fleet's minimum is at least 1, got {minimum}")
    return AlarmSpec(
        slug="api-healthy-hosts",
        description=(
            f"Fewer than {minimum} healthy {what} behind the load balancer (the fleet's minimum) for"
            f" {HEALTHY_HOSTS_MINUTES} minutes, longer than one routine replacement takes: capacity is lost"
        ),
        # The most targets healthy at any time in the minute: one slow probe does not count as a loss.
        metrics=(
            MetricRef(
                "healthy",
                ELB_NAMESPACE,
                "HealthyHostCount",
                {"LoadBalancer": target.load_balancer, "TargetGroup": target.target_group},
                "Maximum",
            ),
        ),
        expression=None,
        expression_label="",
        comparison=LESS,
        threshold=float(minimum),
        periods=HEALTHY_HOSTS_MINUTES,
        datapoints=HEALTHY_HOSTS_MINUTES,
        missing_data=MissingData.BREACHING,
        missing_data_reason=(
            "the load balancer reports healthy targets every minute while the group has any: no datapoint at all"
            " means none is there"
        ),
    )


_HOSTS_SILENT = (
    "every instance (or node) publishes this every minute: silence from all of them for the whole window means"
    " none runs or the agent is broken everywhere, and nobody would see the next incident"
)


def host_alarms(fleet: Ec2Fleet | EksFleet, settings: AlarmSettings) -> list[AlarmSpec]:
    """CPU (the fleet's average), memory and disk (the fullest host) for the seed's window."""
    if isinstance(fleet, Ec2Fleet):
        group = {"AutoScalingGroupName": fleet.auto_scaling_group}
        # EC2's own metric (detailed monitoring: one-minute datapoints); memory and disk come from the CloudWatch
        # agent, which aggregates them by group (aggregation_dimensions, infra/planning/compute/user_data.py): an
        # alarm must name exactly the published dimensions, so only the group's series can be watched.
        cpu = MetricRef("cpu", EC2_NAMESPACE, "CPUUtilization", group, "Average")
        memory = MetricRef("memory", CLOUDWATCH_AGENT_NAMESPACE, "mem_used_percent", group, "Maximum")
        disk = MetricRef("disk", CLOUDWATCH_AGENT_NAMESPACE, "disk_used_percent", group, "Maximum")
        hosts = "instances"
    else:
        cluster = {"ClusterName": fleet.cluster_name}
        cpu = MetricRef("cpu", CONTAINER_INSIGHTS_NAMESPACE, "node_cpu_utilization", cluster, "Average")
        memory = MetricRef("memory", CONTAINER_INSIGHTS_NAMESPACE, "node_memory_utilization", cluster, "Maximum")
        disk = MetricRef("disk", CONTAINER_INSIGHTS_NAMESPACE, "node_filesystem_utilization", cluster, "Maximum")
        hosts = "EKS nodes"

    def gauge(slug: str, metric: MetricRef, threshold: int, description: str) -> AlarmSpec:
        return AlarmSpec(
            slug=slug,
            description=description,
            metrics=(metric,),
            expression=None,
            expression_label="",
            comparison=GREATER,
            threshold=float(threshold),
            periods=SUSTAINED_MINUTES,
            datapoints=SUSTAINED_MINUTES,
            missing_data=MissingData.BREACHING,
            missing_data_reason=_HOSTS_SILENT,
        )

    return [
        gauge(
            "fleet-cpu",
            cpu,
            settings.cpu_percent,
            f"Average CPU of the {hosts} above {settings.cpu_percent}% for {SUSTAINED_MINUTES} minutes: scaling"
            " is not keeping up, or the fleet is at its maximum size",
        ),
        gauge(
            "fleet-memory",
            memory,
            settings.memory_percent,
            f"Memory use of the fullest of the {hosts} above {settings.memory_percent}% for {SUSTAINED_MINUTES}"
            " minutes: the kernel will start killing processes",
        ),
        gauge(
            "fleet-disk",
            disk,
            settings.disk_percent,
            f"Root disk of the fullest of the {hosts} above {settings.disk_percent}% for {SUSTAINED_MINUTES}"
            " minutes: images and logs are filling it",
        ),
    ]


def _per_node(
    metric: str, stat: str, nodes: Sequence[pulumi.Input[str]], period: int = MINUTE
) -> tuple[tuple[MetricRef, ...], str]:
    """The metric of every cache node and the expression that takes the worst of them."""
    refs = tuple(
        MetricRef(f"node{index}", CACHE_NAMESPACE, metric, {"CacheClusterId": node}, stat, period)
        for index, node in enumerate(nodes)
    )
    return refs, f"MAX([{', '.join(ref.query_id for ref in refs)}])"


def cache_alarms(nodes: Sequence[pulumi.Input[str]], settings: AlarmSettings, *, has_replica: bool) -> list[AlarmSpec]:
    """ElastiCache publishes per node (CacheClusterId): each alarm watches the worst node, whichever is primary."""
    if not nodes:
        raise ValueError("a cache has at least one node")
    routine_gap = (
        "a node replacement, failover or maintenance leaves a routine gap of minutes; a lost node shows in the"
        " app's errors and readiness, so the alarm keeps its state through the gap"
    )
    cpu, cpu_max = _per_node("EngineCPUUtilization", "Average", nodes)
    memory, memory_max = _per_node("DatabaseMemoryUsagePercentage", "Maximum", nodes, CACHE_MEMORY_PERIOD)
    evictions, evictions_max = _per_node("Evictions", "Sum", nodes)
    alarms = [
        AlarmSpec(
            slug="cache-cpu",
            description=(
                f"The cache engine's CPU above {settings.cache_cpu_percent}% on a node for {SUSTAINED_MINUTES}"
                " minutes (EngineCPUUtilization: the engine's single thread): requests queue in the cache"
            ),
            metrics=cpu,
            expression=cpu_max,
            expression_label="Engine CPU of the busiest node (%)",
            comparison=GREATER,
            threshold=float(settings.cache_cpu_percent),
            periods=SUSTAINED_MINUTES,
            datapoints=SUSTAINED_MINUTES,
            missing_data=MissingData.IGNORE,
            missing_data_reason=routine_gap,
        ),
        AlarmSpec(
            slug="cache-memory",
            description=(
                f"Cached data above {settings.cache_memory_percent}% of a node's memory for"
                f" {CACHE_MEMORY_PERIOD * CACHE_MEMORY_PERIODS // MINUTE} minutes (DatabaseMemoryUsagePercentage):"
                " the working set outgrows the node; evictions follow"
            ),
            metrics=memory,
            expression=memory_max,
            expression_label="Memory used by data on the fullest node (%)",
            comparison=GREATER,
            threshold=float(settings.cache_memory_percent),
            periods=CACHE_MEMORY_PERIODS,
            datapoints=CACHE_MEMORY_PERIODS,
            missing_data=MissingData.IGNORE,
            missing_data_reason=routine_gap,
        ),
        AlarmSpec(
            slug="cache-evictions",
            description=(
                f"More than {settings.cache_evictions_per_minute} keys evicted a minute on a node for"
                f" {CACHE_EVICTION_MINUTES} minutes: hot keys are pushed out before their TTL, and their reads fall"
                " through to MongoDB; use a larger cacheNodeType"
            ),
            metrics=evictions,
            expression=evictions_max,
            expression_label="Evictions a minute on the busiest node",
            comparison=GREATER,
            threshold=float(settings.cache_evictions_per_minute),
            periods=CACHE_EVICTION_MINUTES,
            datapoints=CACHE_EVICTION_MINUTES,
            missing_data=MissingData.NOT_BREACHING,
            missing_data_reason="a minute without a datapoint is a minute without an eviction",
        ),
    ]
    if has_replica:
        lag, lag_max = _per_node("ReplicationLag", "Maximum", nodes)
        alarms.append(
            AlarmSpec(
                slug="cache-replication-lag",
                description=(
                    f"A cache replica more than {settings.cache_replication_lag_seconds} s behind its primary for"
                    f" {SUSTAINED_MINUTES} minutes: a failover now would lose the writes in between"
                ),
                metrics=lag,
                expression=lag_max,
                expression_label="Replication lag of the furthest replica (s)",
                comparison=GREATER,
                threshold=float(settings.cache_replication_lag_seconds),
                periods=SUSTAINED_MINUTES,
                datapoints=SUSTAINED_MINUTES,
                missing_data=MissingData.NOT_BREACHING,
                # Every node is watched because a failover swaps the roles.
                missing_data_reason="only replicas publish ReplicationLag: the primary's silence is no lag",
            )
        )
    return alarms


def nat_alarm(gateways: Sequence[pulumi.Input[str]]) -> AlarmSpec:
    """Port allocation errors on any NAT gateway: its connections to one destination ran out of source ports."""
    if not gateways:
        raise ValueError("no NAT gateway to watch")
    refs = tuple(
        MetricRef(f"nat{index}", NAT_NAMESPACE, "ErrorPortAllocation", {"NatGatewayId": gateway}, "Sum")
        for index, gateway in enumerate(gateways)
    )
    return AlarmSpec(
        slug="nat-port-allocation",
        description=(
            "A NAT gateway could not allocate a source port (ErrorPortAllocation above 0): outbound connections"
            " from the app (Atlas's API, third-party APIs, image pulls) are being dropped; the dashboard's NAT panel"
            " shows which gateway"
        ),
        metrics=refs,
        expression=f"SUM([{', '.join(ref.query_id for ref in refs)}])",
        expression_label="Port allocation errors on all NAT gateways",
        comparison=GREATER,
        threshold=0.0,
        periods=NAT_ERROR_MINUTES,
        datapoints=1,
        missing_data=MissingData.NOT_BREACHING,
        missing_data_reason="the gateway publishes no datapoint in a minute without errors: no data is no error",
    )
