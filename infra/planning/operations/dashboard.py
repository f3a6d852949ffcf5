"""The stack's CloudWatch dashboard as data: the one picture on-call opens first. Pure: it takes the resolved names
(ARN suffixes, group or cluster name, node and gateway ids, web ACL names, alarm ARNs) and returns the body
CloudWatch's PutDashboard takes (the "Dashboard body structure and syntax" reference).

Top to bottom: every alarm's state; traffic and what the firewall refused; latency percentiles; errors; healthy
targets against the fleet's size; the hosts' CPU, memory and disk; the cache; the NAT gateways.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from infra.planning.compute.instance_policy import CLOUDWATCH_AGENT_NAMESPACE
from infra.planning.operations.alarms import (
    CACHE_NAMESPACE,
    CONTAINER_INSIGHTS_NAMESPACE,
    EC2_NAMESPACE,
    ELB_NAMESPACE,
    NAT_NAMESPACE,
)

GRID_WIDTH: Final = 24
WIDGET_WIDTH: Final = 12
WIDGET_HEIGHT: Final = 6
WAF_NAMESPACE: Final = "AWS/WAFV2"
AUTO_SCALING_NAMESPACE: Final = "AWS/AutoScaling"
CLOUDFRONT_METRICS_REGION: Final = "us-east-1"
"""CloudFront's web ACL publishes its metrics in us-east-1, without a Region dimension (AWS WAF developer guide,
"AWS WAF metrics and dimensions")."""


@dataclass(frozen=True)
class WebAclMetrics:
    name: str
    """The web ACL's name: its metrics' WebACL dimension."""
    label: str
    cloudfront: bool


@dataclass(frozen=True)
class DashboardTargets:
    region: str
    load_balancer: str
    target_group: str
    fleet_kind: str
    """`ec2` (an Auto Scaling group) or `eks` (a cluster)."""
    fleet_name: str
    """The Auto Scaling group's name, or the EKS cluster's."""
    app_namespace: str = ""
    """Tier B: the app's Kubernetes namespace (its pod count)."""
    cache_nodes: Sequence[str] = ()
    nat_gateways: Sequence[str] = ()
    web_acls: Sequence[WebAclMetrics] = ()
    alarm_arns: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.fleet_kind not in ("ec2", "eks"):
            raise ValueError(f"fleet_kind '{self.fleet_kind}': allowed: ec2, eks")


Metric = list[Any]


def _metric(namespace: str, name: str, dimensions: dict[str, str], **options: Any) -> Metric:
    flat: Metric = [namespace, name]
    for key, value in dimensions.items():
        flat += [key, value]
    return [*flat, options] if options else flat


def _graph(title: str, metrics: list[Metric], region: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "properties": {
            "title": title,
            "metrics": metrics,
            "region": region,
            "view": "timeSeries",
            "stacked": False,
            "period": 60,
            **properties,
        },
    }


def _traffic(t: DashboardTargets) -> list[dict[str, Any]]:
    group = {"LoadBalancer": t.load_balancer, "TargetGroup": t.target_group}
    requests = [_metric(ELB_NAMESPACE, "RequestCount", group, stat="Sum", label="Requests a minute")]
    firewall: list[dict[str, Any]] = []
    for acl in t.web_acls:
        dimensions = {"WebACL": acl.name, "Rule": "ALL"}
        if not acl.cloudfront:
            dimensions["Region"] = t.region
        region = CLOUDFRONT_METRICS_REGION if acl.cloudfront else t.region
        firewall.append(
            _graph(
                f"Firewall: {acl.label}",
                [
                    _metric(WAF_NAMESPACE, "AllowedRequests", dimensions, stat="Sum", label="Allowed"),
                    _metric(WAF_NAMESPACE, "BlockedRequests", dimensions, stat="Sum", label="Blocked"),
                    _metric(WAF_NAMESPACE, "CountedRequests", dimensions, stat="Sum", label="Counted (count mode)"),
                ],
                region,
            )
        )
    latency = [
        _metric(ELB_NAMESPACE, "TargetResponseTime", group, stat=stat, label=stat)
        for stat in ("p50", "p90", "p95", "p99")
    ]
    return [
        _graph("Traffic (requests a minute)", requests, t.region),
        *firewall,
        _graph("Latency percentiles (seconds)", latency, t.region),
    ]


def _errors(t: DashboardTargets) -> list[dict[str, Any]]:
    group = {"LoadBalancer": t.load_balancer, "TargetGroup": t.target_group}
    balancer = {"LoadBalancer": t.load_balancer}
    counts = [
        _metric(ELB_NAMESPACE, "HTTPCode_Target_5XX_Count", group, stat="Sum", label="App 5xx"),
        _metric(ELB_NAMESPACE, "HTTPCode_ELB_5XX_Count", balancer, stat="Sum", label="Load balancer 5xx"),
        _metric(ELB_NAMESPACE, "HTTPCode_Target_4XX_Count", group, stat="Sum", label="App 4xx"),
    ]
    rate = [
        [{"expression": "100 * (FILL(m1, 0) + FILL(m2, 0)) / FILL(m3, 1)", "label": "5xx (% of requests)", "id": "e1"}],
        _metric(ELB_NAMESPACE, "HTTPCode_Target_5XX_Count", group, stat="Sum", id="m1", visible=False),
        _metric(ELB_NAMESPACE, "HTTPCode_ELB_5XX_Count", balancer, stat="Sum", id="m2", visible=False),
        _metric(ELB_NAMESPACE, "RequestCount", group, stat="Sum", id="m3", visible=False),
    ]
    return [_graph("Errors (a minute)", counts, t.region), _graph("Error rate (%)", rate, t.region)]


def _fleet(t: DashboardTargets) -> list[dict[str, Any]]:
    group = {"LoadBalancer": t.load_balancer, "TargetGroup": t.target_group}
    targets = [
        _metric(ELB_NAMESPACE, "HealthyHostCount", group, stat="Minimum", label="Healthy targets"),
        _metric(ELB_NAMESPACE, "UnHealthyHostCount", group, stat="Maximum", label="Unhealthy targets"),
    ]
    if t.fleet_kind == "ec2":
        asg = {"AutoScalingGroupName": t.fleet_name}
        size = [
            _metric(AUTO_SCALING_NAMESPACE, "GroupDesiredCapacity", asg, stat="Maximum", label="Desired"),
            _metric(AUTO_SCALING_NAMESPACE, "GroupInServiceInstances", asg, stat="Maximum", label="In service"),
        ]
        hosts = [
            _metric(EC2_NAMESPACE, "CPUUtilization", asg, stat="Average", label="CPU (average)"),
            _metric(CLOUDWATCH_AGENT_NAMESPACE, "mem_used_percent", asg, stat="Maximum", label="Memory (fullest)"),
            _metric(CLOUDWATCH_AGENT_NAMESPACE, "disk_used_percent", asg, stat="Maximum", label="Disk (fullest)"),
        ]
    else:
        cluster = {"ClusterName": t.fleet_name}
        size = [
            _metric(CONTAINER_INSIGHTS_NAMESPACE, "cluster_node_count", cluster, stat="Maximum", label="Nodes"),
            _metric(
                CONTAINER_INSIGHTS_NAMESPACE,
                "namespace_number_of_running_pods",
                {**cluster, "Namespace": t.app_namespace},
                stat="Maximum",
                label="App pods running",
            ),
        ]
        hosts = [
            _metric(CONTAINER_INSIGHTS_NAMESPACE, "node_cpu_utilization", cluster, stat="Average", label="CPU"),
            _metric(CONTAINER_INSIGHTS_NAMESPACE, "node_memory_utilization", cluster, stat="Maximum", label="Memory"),
            _metric(CONTAINER_INSIGHTS_NAMESPACE, "node_filesystem_utilization", cluster, stat="Maximum", label="Disk"),
        ]
    return [
        _graph("Targets", targets, t.region),
        _graph("Fleet size", size, t.region),
        _graph("Hosts (%)", hosts, t.region, yAxis={"left": {"min": 0, "max": 100}}),
    ]


def _cache(t: DashboardTargets) -> list[dict[str, Any]]:
    if not t.cache_nodes:
        return []

    def per_node(metric: str, stat: str) -> list[Metric]:
        return [
            _metric(CACHE_NAMESPACE, metric, {"CacheClusterId": node}, stat=stat, label=node) for node in t.cache_nodes
        ]

    return [
        _graph("Cache engine CPU (%)", per_node("EngineCPUUtilization", "Average"), t.region),
        _graph("Cache memory used by data (%)", per_node("DatabaseMemoryUsagePercentage", "Maximum"), t.region),
        _graph(
            "Cache evictions and hit rate",
            [
                *per_node("Evictions", "Sum"),
                *[
                    _metric(
                        CACHE_NAMESPACE,
                        "CacheHitRate",
                        {"CacheClusterId": node},
                        stat="Average",
                        yAxis="right",
                        label=f"{node} hit rate (%)",
                    )
                    for node in t.cache_nodes
                ],
            ],
            t.region,
        ),
    ]


def _nat(t: DashboardTargets) -> list[dict[str, Any]]:
    if not t.nat_gateways:
        return []
    errors = [
        _metric(NAT_NAMESPACE, "ErrorPortAllocation", {"NatGatewayId": gateway}, stat="Sum", label=gateway)
        for gateway in t.nat_gateways
    ]
    traffic = [
        _metric(NAT_NAMESPACE, "BytesOutToDestination", {"NatGatewayId": gateway}, stat="Sum", label=gateway)
        for gateway in t.nat_gateways
    ]
    return [_graph("NAT port allocation errors", errors, t.region), _graph("NAT bytes out", traffic, t.region)]


def _placed(widgets: list[dict[str, Any]], top: int) -> list[dict[str, Any]]:
    placed = []
    for index, widget in enumerate(widgets):
        column, row = index % (GRID_WIDTH // WIDGET_WIDTH), index // (GRID_WIDTH // WIDGET_WIDTH)
        placed.append(
            {
                **widget,
                "x": column * WIDGET_WIDTH,
                "y": top + row * WIDGET_HEIGHT,
                "width": WIDGET_WIDTH,
                "height": WIDGET_HEIGHT,
            }
        )
    return placed


def dashboard_body(targets: DashboardTargets) -> dict[str, Any]:
    """The dashboard: the alarms across the top, then two graphs a row."""
    alarms_height = 4
    header = {
        "type": "alarm",
        "x": 0,
        "y": 0,
        "width": GRID_WIDTH,
        "height": alarms_height,
        "properties": {"title": "Alarms", "alarms": sorted(targets.alarm_arns)},
    }
    graphs = [*_traffic(targets), *_errors(targets), *_fleet(targets), *_cache(targets), *_nat(targets)]
    return {"widgets": [header, *_placed(graphs, alarms_height)]}
