"""The stack's alarms and its dashboard. Takes what it watches as inputs: the load balancer and target group
(their ARN suffixes), the fleet (an Auto Scaling group, or an EKS cluster), the cache's nodes, the NAT gateways
and the web ACLs; and where alarms go (the alert topic). Every alarm notifies the same targets on ALARM and on
the way back to OK. Thresholds come from config; each alarm's window and missing-data treatment from
infra/planning/operations/alarms.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.config.model import AlarmSettings, JobsSettings
from infra.planning.naming import child_name, name_tag
from infra.planning.operations.alarms import (
    AlarmSpec,
    Ec2Fleet,
    EksFleet,
    LoadBalancerTarget,
    cache_alarms,
    healthy_hosts_alarm,
    host_alarms,
    nat_alarm,
    traffic_alarms,
)
from infra.planning.operations.dashboard import DashboardTargets, WebAclMetrics, dashboard_body
from infra.planning.operations.job_alarms import job_alarms


@dataclass(frozen=True)
class WebAclRef:
    name: pulumi.Input[str]
    label: str
    cloudfront: bool


@dataclass(frozen=True)
class MonitoringArgs:
    name_prefix: str
    region: str
    alarm_actions: Sequence[pulumi.Input[str]]
    """SNS topic ARNs: every alarm's alarm and OK actions."""
    thresholds: AlarmSettings
    traffic: LoadBalancerTarget
    fleet: Ec2Fleet | EksFleet
    healthy_minimum: int
    """The fleet's minimum: instances (tiers A and C) or pods (tier B) the target group should hold."""
    app_namespace: str = ""
    """Tier B: the app's namespace (the dashboard counts its pods)."""
    cache_nodes: Sequence[pulumi.Input[str]] = ()
    """ElastiCache member cluster ids; none with cacheMode external."""
    cache_has_replica: bool = False
    nat_gateway_ids: Sequence[pulumi.Input[str]] = ()
    web_acls: Sequence[WebAclRef] = ()
    other_alarms: Sequence[aws.cloudwatch.MetricAlarm] = field(default_factory=tuple)
    """Alarms made elsewhere (the deploy alarms): on the dashboard's alarm panel too."""
    jobs: JobsSettings | None = None
    """The background jobs' alarm thresholds (every tier); with `stack`, the exporter's Stack dimension."""
    stack: str = ""


def alarm_specs(args: MonitoringArgs) -> list[AlarmSpec]:
    hosts = "instances" if isinstance(args.fleet, Ec2Fleet) else "pods"
    specs = [
        *traffic_alarms(args.traffic, args.thresholds),
        healthy_hosts_alarm(args.traffic, args.healthy_minimum, what=hosts),
        *host_alarms(args.fleet, args.thresholds),
    ]
    if args.cache_nodes:
        specs += cache_alarms(args.cache_nodes, args.thresholds, has_replica=args.cache_has_replica)
    if args.nat_gateway_ids:
        specs.append(nat_alarm(args.nat_gateway_ids))
    if args.jobs is not None:
        specs += job_alarms(args.stack, args.jobs)
    return specs


def _queries(spec: AlarmSpec) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    direct = spec.expression is None
    queries = [
        aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=metric.query_id,
            return_data=direct,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=metric.namespace,
                metric_name=metric.name,
                dimensions=dict(metric.dimensions),
                period=metric.period,
                stat=metric.stat,
            ),
        )
        for metric in spec.metrics
    ]
    if spec.expression is not None:
        queries.append(
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="value", expression=spec.expression, label=spec.expression_label, return_data=True
            )
        )
    return queries


class Monitoring(pulumi.ComponentResource):
    alarm_names: list[pulumi.Output[str]]
    dashboard_name: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:operations:Monitoring", name, None, opts)
        if not args.alarm_actions:
            raise ValueError("every alarm needs somewhere to send it: give alarm_actions (the alert topic)")
        child = pulumi.ResourceOptions(parent=self)
        alarms = [
            aws.cloudwatch.MetricAlarm(
                child_name(name, spec.slug),
                # A fixed, readable name: it is what the page says.
                name=f"{args.name_prefix}-{spec.slug}",
                alarm_description=spec.description,
                comparison_operator=spec.comparison,
                threshold=spec.threshold,
                evaluation_periods=spec.periods,
                datapoints_to_alarm=spec.datapoints,
                # Chosen per alarm, with its reason, in infra/planning/operations/alarms.py.
                treat_missing_data=spec.missing_data.value,
                metric_queries=_queries(spec),
                alarm_actions=list(args.alarm_actions),
                ok_actions=list(args.alarm_actions),
                tags=name_tag(args.name_prefix, "alarm", spec.slug),
                opts=child,
            )
            for spec in alarm_specs(args)
        ]
        dashboard = aws.cloudwatch.Dashboard(
            child_name(name, "dashboard"),
            dashboard_name=f"{args.name_prefix}-overview",
            dashboard_body=self._body(args, [*alarms, *args.other_alarms]),
            opts=child,
        )
        self.alarm_names = [alarm.name for alarm in alarms]
        self.dashboard_name = dashboard.dashboard_name
        self.register_outputs({"alarmNames": self.alarm_names, "dashboardName": self.dashboard_name})

    @staticmethod
    def _body(args: MonitoringArgs, alarms: Sequence[aws.cloudwatch.MetricAlarm]) -> pulumi.Output[str]:
        fleet_name = args.fleet.auto_scaling_group if isinstance(args.fleet, Ec2Fleet) else args.fleet.cluster_name
        fixed: list[pulumi.Input[Any]] = [args.traffic.load_balancer, args.traffic.target_group, fleet_name]
        counts = (len(args.cache_nodes), len(args.nat_gateway_ids), len(args.web_acls), len(alarms))

        def render(values: list[Any]) -> str:
            rest = values[3:]
            cache_nodes, rest = rest[: counts[0]], rest[counts[0] :]
            gateways, rest = rest[: counts[1]], rest[counts[1] :]
            acl_names, alarm_arns = rest[: counts[2]], rest[counts[2] :]
            targets = DashboardTargets(
                region=args.region,
                load_balancer=values[0],
                target_group=values[1],
                fleet_kind="ec2" if isinstance(args.fleet, Ec2Fleet) else "eks",
                fleet_name=values[2],
                app_namespace=args.app_namespace,
                cache_nodes=cache_nodes,
                nat_gateways=gateways,
                web_acls=[
                    WebAclMetrics(name=acl_name, label=acl.label, cloudfront=acl.cloudfront)
                    for acl_name, acl in zip(acl_names, args.web_acls, strict=True)
                ],
                alarm_arns=alarm_arns,
            )
            return json.dumps(dashboard_body(targets), sort_keys=True)

        return pulumi.Output.all(
            *fixed,
            *args.cache_nodes,
            *args.nat_gateway_ids,
            *(acl.name for acl in args.web_acls),
            *(alarm.arn for alarm in alarms),
        ).apply(render)
