"""The background jobs' alarms on every tier (issue 16): queue depth and oldest job age above config's thresholds,
from the exporter's Contentry/Jobs metrics by Stack, a silent exporter breaching, to the stack's alert topic."""

from __future__ import annotations

import pytest

from tests.infra.plans import STACKS, plan_of

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_every_tier_alarms_on_queue_depth_and_oldest_job_age(stack_id: str) -> None:
    stack, overrides = STACKS[stack_id]
    plan = plan_of(stack, overrides)
    alarms = {a["name"]: a["inputs"] for a in plan.of_type(ALARM)}
    jobs = plan.config["jobs"]
    expected = {
        "monitoring-jobs-queue-depth": ("QueueDepth", jobs["jobQueueDepthAlarmThreshold"]),
        "monitoring-jobs-oldest-age": ("OldestJobAgeSeconds", jobs["jobOldestAgeAlarmSeconds"]),
    }
    for name, (metric, threshold) in expected.items():
        alarm = alarms[name]
        (query,) = alarm["metricQueries"]
        assert query["metric"]["namespace"] == "Contentry/Jobs"
        assert query["metric"]["metricName"] == metric
        assert query["metric"]["dimensions"] == {"Stack": plan.stack}
        assert query["metric"]["stat"] == "Maximum", "several exporters publish the same value"
        assert alarm["threshold"] == threshold
        assert alarm["comparisonOperator"] == "GreaterThanThreshold"
        assert alarm["treatMissingData"] == "breaching", "a silent exporter must page"
        assert alarm["alarmActions"] == [plan.outputs["alertTopicArn"]] == alarm["okActions"]


def test_the_thresholds_follow_config() -> None:
    plan = plan_of("dev", ("jobQueueDepthAlarmThreshold=42", "jobOldestAgeAlarmSeconds=120"))
    alarms = {a["name"]: a["inputs"] for a in plan.of_type(ALARM)}
    assert alarms["monitoring-jobs-queue-depth"]["threshold"] == 42
    assert alarms["monitoring-jobs-oldest-age"]["threshold"] == 120
