"""How the app fleet grows, shrinks and guards its deploys (built under the fleet component): two
target-tracking policies and the two alarms that stop and roll back a bad instance refresh."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.planning.compute.scaling import (
    DEPLOY_ALARM_ERROR_PERCENT,
    DEPLOY_ALARM_PERIODS,
    DEPLOY_ERROR_RATE_EXPRESSION,
    DEPLOY_UNHEALTHY_MINUTES,
    cpu_target_percent,
    requests_per_target_per_minute,
)
from infra.planning.naming import child_name, name_tag


@dataclass(frozen=True)
class TrafficMetrics:
    """The ALB metric dimensions of the fleet's traffic."""

    load_balancer_arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]


def _alb_metric(
    query_id: str, metric_name: str, dimensions: dict[str, pulumi.Input[str]]
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id,
        return_data=False,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace="AWS/ApplicationELB", metric_name=metric_name, dimensions=dimensions, period=60, stat="Sum"
        ),
    )


def deploy_error_alarm(
    parent: pulumi.Resource, name: str, *, name_prefix: str, traffic: TrafficMetrics
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
            _alb_metric("target_errors", "HTTPCode_Target_5XX_Count", target_group),
            _alb_metric("elb_errors", "HTTPCode_ELB_5XX_Count", load_balancer),
            _alb_metric("requests", "RequestCount", target_group),
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="error_rate",
                expression=DEPLOY_ERROR_RATE_EXPRESSION,
                label="5xx from the app or the load balancer (% of requests)",
                return_data=True,
            ),
        ],
        tags=name_tag(name_prefix, "app-deploy-errors"),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def deploy_unhealthy_alarm(
    parent: pulumi.Resource, name: str, *, name_prefix: str, traffic: TrafficMetrics
) -> aws.cloudwatch.MetricAlarm:
    """Targets unhealthy for longer than any boot or replacement takes: a release that never starts serving
    (it answers no 5xx, the old instances do the serving), the other rollback trigger of the refresh."""
    return aws.cloudwatch.MetricAlarm(
        child_name(name, "deploy-unhealthy"),
        name=f"{name_prefix}-app-unhealthy-targets",
        alarm_description=(
            f"An app target unhealthy in each of {DEPLOY_UNHEALTHY_MINUTES} consecutive minutes: instances that"
            " never pass the health check; a running instance refresh stops and rolls back"
        ),
        namespace="AWS/ApplicationELB",
        metric_name="UnHealthyHostCount",
        dimensions={
            "LoadBalancer": traffic.load_balancer_arn_suffix,
            "TargetGroup": traffic.target_group_arn_suffix,
        },
        # The minute's minimum: an unhealthy target during the whole minute, not one failed probe in it.
        statistic="Minimum",
        period=60,
        comparison_operator="GreaterThanThreshold",
        threshold=0,
        evaluation_periods=DEPLOY_UNHEALTHY_MINUTES,
        datapoints_to_alarm=DEPLOY_UNHEALTHY_MINUTES,
        treat_missing_data="notBreaching",
        tags=name_tag(name_prefix, "app-deploy-unhealthy"),
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
