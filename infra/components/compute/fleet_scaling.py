"""How the app fleet grows, shrinks and guards its deploys (built under the fleet component): two
target-tracking policies and the two alarms that stop and roll back a bad instance refresh.

Each alarm takes its notification targets as one argument (`actions`, SNS topic ARNs): the same targets go to
ALARM and back to OK. With none, the alarms still stop and roll back a refresh (the refresh reads their state)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.planning.compute.scaling import (
    DEPLOY_ALARM_ERROR_PERCENT,
    DEPLOY_ALARM_PERIODS,
    DEPLOY_CAPACITY_EXPRESSION,
    DEPLOY_CAPACITY_MINUTES,
    DEPLOY_ERROR_RATE_EXPRESSION,
    cpu_target_percent,
    requests_per_target_per_minute,
)
from infra.planning.naming import child_name, name_tag


@dataclass(frozen=True)
class TrafficMetrics:
    """The ALB metric dimensions of the fleet's traffic."""

    load_balancer_arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]


def _metric(
    query_id: str,
    metric_name: str,
    dimensions: dict[str, pulumi.Input[str]],
    *,
    namespace: str = "AWS/ApplicationELB",
    stat: str = "Sum",
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id,
        return_data=False,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=namespace, metric_name=metric_name, dimensions=dimensions, period=60, stat=stat
        ),
    )


def _notify(actions: Sequence[pulumi.Input[str]]) -> dict[str, Any]:
    """The alarm's notification targets, on ALARM and on the way back to OK; none until a topic is given."""
    if not actions:
        return {}
    return {"alarm_actions": list(actions), "ok_actions": list(actions)}


def deploy_error_alarm(
    parent: pulumi.Resource,
    name: str,
    *,
    name_prefix: str,
    traffic: TrafficMetrics,
    actions: Sequence[pulumi.Input[str]] = (),
) -> aws.cloudwatch.MetricAlarm:
    """The share of requests answered 5xx, by the app or by the load balancer in front of it: a rollback
    trigger of the instance refresh."""
    target_group = {
        "LoadBalancer": traffic.load_balancer_arn_suffix,
        "TargetGroup": traffic.target_group_arn_suffix,
    }
    # The load balancer's own 5xx have no target group dimension; it serves only this app's target group.
    load_balancer = {"LoadBalancer": traffic.load_balancer_arn_suffix}
    return aws.cloudwatch.MetricAlarm(
        child_name(name, "deploy-errors"),
        # A readable, fixed name: it is what on-call sees, and what the instance refresh refers to.
        name=f"{name_prefix}-app-5xx-rate",
        alarm_description=(
            f"More than {DEPLOY_ALARM_ERROR_PERCENT:g}% of requests answered 5xx by the app or the load balancer"
            f" for {DEPLOY_ALARM_PERIODS} minutes: a running instance refresh stops and rolls back"
        ),
        comparison_operator="GreaterThanThreshold",
        threshold=DEPLOY_ALARM_ERROR_PERCENT,
        evaluation_periods=DEPLOY_ALARM_PERIODS,
        datapoints_to_alarm=DEPLOY_ALARM_PERIODS,
        treat_missing_data="notBreaching",  # no traffic is not an error
        metric_queries=[
            _metric("target_errors", "HTTPCode_Target_5XX_Count", target_group),
            _metric("elb_errors", "HTTPCode_ELB_5XX_Count", load_balancer),
            _metric("requests", "RequestCount", target_group),
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="error_rate",
                expression=DEPLOY_ERROR_RATE_EXPRESSION,
                label="5xx from the app or the load balancer (% of requests)",
                return_data=True,
            ),
        ],
        tags=name_tag(name_prefix, "app-deploy-errors"),
        **_notify(actions),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def deploy_capacity_alarm(
    parent: pulumi.Resource,
    name: str,
    *,
    name_prefix: str,
    traffic: TrafficMetrics,
    group_name: pulumi.Input[str],
    actions: Sequence[pulumi.Input[str]] = (),
) -> aws.cloudwatch.MetricAlarm:
    """Fewer healthy targets than the group's desired capacity for longer than a healthy boot takes: a release
    whose instances never pass the health check (it answers no 5xx: the old instances do the serving), the other
    rollback trigger of the refresh. It decides within the refresh's checkpoint delay and bake time."""
    return aws.cloudwatch.MetricAlarm(
        child_name(name, "deploy-unhealthy"),
        name=f"{name_prefix}-app-unhealthy-targets",
        alarm_description=(
            f"Fewer healthy app targets than the group's desired capacity in each of {DEPLOY_CAPACITY_MINUTES}"
            " consecutive minutes (longer than a healthy boot): instances that never pass the health check; a"
            " running instance refresh stops and rolls back"
        ),
        comparison_operator="GreaterThanThreshold",
        threshold=0,
        evaluation_periods=DEPLOY_CAPACITY_MINUTES,
        datapoints_to_alarm=DEPLOY_CAPACITY_MINUTES,
        treat_missing_data="notBreaching",
        metric_queries=[
            # The most targets healthy at any time in the minute: one slow probe does not count as a loss.
            _metric(
                "healthy",
                "HealthyHostCount",
                {"LoadBalancer": traffic.load_balancer_arn_suffix, "TargetGroup": traffic.target_group_arn_suffix},
                stat="Maximum",
            ),
            # The least the group wanted in the minute (it publishes one-minute group metrics, app_fleet.py).
            _metric(
                "desired",
                "GroupDesiredCapacity",
                {"AutoScalingGroupName": group_name},
                namespace="AWS/AutoScaling",
                stat="Minimum",
            ),
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="missing_targets",
                expression=DEPLOY_CAPACITY_EXPRESSION,
                label="Healthy targets short of the desired capacity",
                return_data=True,
            ),
        ],
        tags=name_tag(name_prefix, "app-deploy-unhealthy"),
        **_notify(actions),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def target_tracking_policies(
    parent: pulumi.Resource,
    name: str,
    *,
    group: aws.autoscaling.Group,
    instance_type: str,
    traffic: TrafficMetrics,
) -> None:
    """Two target-tracking policies: the group scales out when either metric is above its target and in only
    when both are below, so neither a CPU-bound nor an I/O-bound load is starved."""
    instance = aws.ec2.get_instance_type(instance_type=instance_type, opts=pulumi.InvokeOptions(parent=parent))
    targets = {
        "cpu": (
            aws.autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs(
                predefined_metric_type="ASGAverageCPUUtilization"
            ),
            cpu_target_percent(instance_type),
        ),
        "requests": (
            aws.autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs(
                predefined_metric_type="ALBRequestCountPerTarget",
                resource_label=pulumi.Output.concat(
                    traffic.load_balancer_arn_suffix, "/", traffic.target_group_arn_suffix
                ),
            ),
            requests_per_target_per_minute(instance.default_vcpus),
        ),
    }
    for label, (metric, target) in targets.items():
        aws.autoscaling.Policy(
            child_name(name, "scale-on", label),
            autoscaling_group_name=group.name,
            policy_type="TargetTrackingScaling",
            target_tracking_configuration=aws.autoscaling.PolicyTargetTrackingConfigurationArgs(
                predefined_metric_specification=metric, target_value=target
            ),
            opts=pulumi.ResourceOptions(parent=parent),
        )
