"""The background jobs' alarms as data (every tier: the exporter publishes the same metrics from EC2 hosts and from
tier B's Deployment): jobs piling up in the queue, and the oldest queued job waiting too long.

Both watch the exporter's metrics in Contentry/Jobs with the dimension Stack=<stack>, at their Maximum (several
exporters publish the same global value). Missing data is `breaching`: the exporter publishes every minute while
it runs, so silence means it is down (or cannot reach CloudWatch), and then nobody sees the queue at all, and
queue-depth scaling has stopped too. A silent exporter must page, not look healthy.
"""

from __future__ import annotations

from typing import Final

from infra.config.model import JobsSettings
from infra.planning.compute.job_containers import (
    JOBS_METRICS_NAMESPACE,
    OLDEST_JOB_AGE_METRIC,
    QUEUE_DEPTH_METRIC,
    STACK_DIMENSION,
)
from infra.planning.operations.alarms import GREATER, AlarmSpec, MetricRef, MissingData

JOB_ALARM_MINUTES: Final = 10
"""A burst of uploads fills the queue for a few minutes while the workers scale out (a boot takes about 3);
ten minutes above the threshold mean the workers are not keeping up."""
_SILENT_EXPORTER = (
    "the exporter publishes every minute while it runs: silence means it is down or cannot reach CloudWatch, the"
    " queue is invisible and queue-depth scaling has stopped"
)


def job_alarms(stack: str, settings: JobsSettings) -> list[AlarmSpec]:
    dimensions = {STACK_DIMENSION: stack}
    return [
        AlarmSpec(
            slug="jobs-queue-depth",
            description=(
                f"More than {settings.queue_depth_alarm_threshold} jobs waiting in the queue for {JOB_ALARM_MINUTES}"
                " minutes (or no queue metrics at all): the workers are not keeping up, are at their maximum, or"
                " are down. Look at the workers' log group and the dashboard's job panels"
            ),
            metrics=(MetricRef("depth", JOBS_METRICS_NAMESPACE, QUEUE_DEPTH_METRIC, dimensions, "Maximum"),),
            expression=None,
            expression_label="",
            comparison=GREATER,
            threshold=float(settings.queue_depth_alarm_threshold),
            periods=JOB_ALARM_MINUTES,
            datapoints=JOB_ALARM_MINUTES,
            missing_data=MissingData.BREACHING,
            missing_data_reason=_SILENT_EXPORTER,
        ),
        AlarmSpec(
            slug="jobs-oldest-age",
            description=(
                f"The oldest queued job has waited more than {settings.oldest_age_alarm_seconds} s for"
                f" {JOB_ALARM_MINUTES} minutes (or no queue metrics at all): jobs are stuck or the workers are down"
            ),
            metrics=(MetricRef("age", JOBS_METRICS_NAMESPACE, OLDEST_JOB_AGE_METRIC, dimensions, "Maximum"),),
            expression=None,
            expression_label="",
            comparison=GREATER,
            threshold=float(settings.oldest_age_alarm_seconds),
            periods=JOB_ALARM_MINUTES,
            datapoints=JOB_ALARM_MINUTES,
            missing_data=MissingData.BREACHING,
            missing_data_reason=_SILENT_EXPORTER,
        ),
    ]
