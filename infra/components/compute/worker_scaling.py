"""The worker fleet's scaling policy on queue depth per worker host, and the alarm its rollout watches (built
under the worker fleet component). The metric math is infra/planning/compute/worker_scaling.py's.

Argument names checked against pulumi-aws 7.51's schema (`autoscaling/_inputs.py`:
PolicyTargetTrackingConfigurationCustomizedMetricSpecificationArgs.metrics, each with `id`, `expression`,
`label`, `metric_stat` {`metric` {`metric_name`, `namespace`, `dimensions` [{`name`, `value`}]}, `stat`,
`period`} and `return_data`), the provider's docs (registry: aws.autoscaling.Policy, "Create target tracking
scaling policy using metric math") and AWS's TargetTrackingMetricDataQuery (exactly one query returns data).
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from infra.components.compute.fleet_scaling import _notify
from infra.planning.compute.job_containers import JOBS_METRICS_NAMESPACE, QUEUE_DEPTH_METRIC, STACK_DIMENSION
from infra.planning.compute.worker_scaling import (
    IN_SERVICE_ID,
    METRIC_PERIOD_SECONDS,
    PER_WORKER_ID,
    QUEUE_DEPTH_ID,
    QUEUE_DEPTH_PER_WORKER_EXPRESSION,
    WORKER_CAPACITY_EXPRESSION,
    WORKER_CAPACITY_MINUTES,
)
from infra.planning.naming import child_name, name_tag

_Spec = aws.autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationArgs
_Query = aws.autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricArgs
_Stat = aws.autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricMetricStatArgs
_Metric = aws.autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricMetricStatMetricArgs
_Dimension = (
    aws.autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricMetricStatMetricDimensionArgs
)


def queue_depth_scaling_policy(
    parent: pulumi.Resource,
    name: str,
    *,
    group_name: pulumi.Input[str],
    stack: str,
    target_per_worker: int,
) -> aws.autoscaling.Policy:
    """Target tracking on QueueDepth (Contentry/Jobs, Stack=<stack>) / GroupInServiceInstances."""
    return aws.autoscaling.Policy(
        child_name(name, "scale-on-queue-depth"),
        autoscaling_group_name=group_name,
        policy_type="TargetTrackingScaling",
        target_tracking_configuration=aws.autoscaling.PolicyTargetTrackingConfigurationArgs(
            target_value=float(target_per_worker),
            customized_metric_specification=_Spec(
                metrics=[
                    _Query(
                        id=QUEUE_DEPTH_ID,
                        label="Jobs waiting in the queue",
                        return_data=False,
                        metric_stat=_Stat(
                            metric=_Metric(
                                namespace=JOBS_METRICS_NAMESPACE,
                                metric_name=QUEUE_DEPTH_METRIC,
                                dimensions=[_Dimension(name=STACK_DIMENSION, value=stack)],
                            ),
                            # Every host's exporter publishes the same global value: the Maximum is that value.
                            stat="Maximum",
                            period=METRIC_PERIOD_SECONDS,
                        ),
                    ),
                    _Query(
                        id=IN_SERVICE_ID,
                        label="Worker instances in service",
                        return_data=False,
                        metric_stat=_Stat(
                            metric=_Metric(
                                namespace="AWS/AutoScaling",
                                metric_name="GroupInServiceInstances",
                                dimensions=[_Dimension(name="AutoScalingGroupName", value=group_name)],
                            ),
                            stat="Average",
                            period=METRIC_PERIOD_SECONDS,
                        ),
                    ),
                    _Query(
                        id=PER_WORKER_ID,
                        label="Jobs waiting per worker instance",
                        expression=QUEUE_DEPTH_PER_WORKER_EXPRESSION,
                        return_data=True,
                    ),
                ]
            ),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def worker_capacity_alarm(
    parent: pulumi.Resource,
    name: str,
    *,
    name_prefix: str,
    group_name: pulumi.Input[str],
    actions: Sequence[pulumi.Input[str]] = (),
) -> aws.cloudwatch.MetricAlarm:
    """Fewer worker instances in service than desired for WORKER_CAPACITY_MINUTES: workers that never pass
    their ping. The rollback trigger of the worker fleet's instance refresh, and a page."""

    def group_metric(query_id: str, metric: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
        return aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=query_id,
            return_data=False,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace="AWS/AutoScaling",
                metric_name=metric,
                dimensions={"AutoScalingGroupName": group_name},
                period=METRIC_PERIOD_SECONDS,
                stat="Minimum",
            ),
        )

    return aws.cloudwatch.MetricAlarm(
        child_name(name, "unhealthy"),
        name=f"{name_prefix}-workers-below-desired",
        alarm_description=(
            f"Fewer job worker instances in service than desired in each of {WORKER_CAPACITY_MINUTES} minutes"
            " (longer than a boot): workers that never answer Celery's ping are being replaced; a running"
            " instance refresh stops and rolls back"
        ),
        comparison_operator="GreaterThanThreshold",
        threshold=0,
        evaluation_periods=WORKER_CAPACITY_MINUTES,
        datapoints_to_alarm=WORKER_CAPACITY_MINUTES,
        # The group publishes both every minute (enabled metrics): silence means nothing to compare.
        treat_missing_data="notBreaching",
        metric_queries=[
            group_metric("desired", "GroupDesiredCapacity"),
            group_metric("in_service", "GroupInServiceInstances"),
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="missing_workers",
                expression=WORKER_CAPACITY_EXPRESSION,
                label="Worker instances short of the desired capacity",
                return_data=True,
            ),
        ],
        tags=name_tag(name_prefix, "workers-below-desired"),
        **_notify(actions),
        opts=pulumi.ResourceOptions(parent=parent),
    )
