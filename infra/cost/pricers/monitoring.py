"""CloudWatch alarms, dashboards and log groups; SNS topics for alerts."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from infra.cost.model import Category, Kind
from infra.cost.pricing import Bill, PricerSpec, UsageKey, integer

INGESTED = UsageKey("ingestedGb", "GB/month", "Log data written to the group")
STORED = UsageKey(
    "storedGb", "GB-month", "Log data kept; default: ingestedGb x the group's retention in months (uncompressed)"
)
HOURS_PER_DAY = Decimal(24)

HIGH_RESOLUTION_BELOW_SECONDS = 60
ANOMALY_BAND_METRICS = 3  # an anomaly detection alarm is billed as three metrics


def _alarm_metrics(alarm: Bill) -> tuple[int, int]:
    """(metrics billed, period in seconds) of an alarm: one metric, or each metric of its metric queries."""
    queries: list[Mapping[str, Any]] = [
        q for q in alarm.resource.get("metricQueries", default=[]) if isinstance(q, Mapping)
    ]
    if not queries:
        return 1, integer(alarm.resource.get("period"), HIGH_RESOLUTION_BELOW_SECONDS)
    metrics = [q["metric"] for q in queries if isinstance(q.get("metric"), Mapping)]
    periods = [integer(m.get("period"), HIGH_RESOLUTION_BELOW_SECONDS) for m in metrics]
    anomaly = any("ANOMALY_DETECTION_BAND" in str(q.get("expression", "")) for q in queries)
    return (ANOMALY_BAND_METRICS if anomaly else len(metrics)), min(periods, default=HIGH_RESOLUTION_BELOW_SECONDS)


def _metric_alarm(bill: Bill) -> None:
    metrics, period = _alarm_metrics(bill)
    if period < HIGH_RESOLUTION_BELOW_SECONDS:
        bill.add(f"High-resolution alarm ({metrics} metric(s))", Decimal(metrics), "cloudwatch.alarm.high-resolution")
    else:
        bill.add(f"Standard alarm ({metrics} metric(s))", Decimal(metrics), "cloudwatch.alarm.standard")


def _dashboard(bill: Bill) -> None:
    bill.add("Dashboard", Decimal(1), "cloudwatch.dashboard")


def _log_group(bill: Bill) -> None:
    ingested = bill.usage(INGESTED.name)
    if ingested is None:
        return
    bill.add("Data ingested", ingested, "cloudwatch.logs.ingest", kind=Kind.USAGE)
    retention = integer(bill.resource.get("retentionInDays"))
    explicit = bill.context.usage_of(bill.resource).get(STORED.name)
    if explicit is not None:
        bill.add("Storage", explicit, "cloudwatch.logs.storage", kind=Kind.USAGE)
    elif retention:
        # Steady state: the group holds `retention` days of ingestion (counted uncompressed: an upper bound). A month
        # is the table's 730 hours, as for every other price, so 365 days are exactly 12 months.
        months = Decimal(retention) * HOURS_PER_DAY / bill.context.hours
        bill.add(f"Storage ({retention} days kept)", ingested * months, "cloudwatch.logs.storage", kind=Kind.USAGE)
    else:
        bill.missing(f"storage: the group never expires its logs; set '{STORED.name}' in the stack's usage file")


PRICERS = {
    "aws:cloudwatch/metricAlarm:MetricAlarm": PricerSpec(_metric_alarm, Category.MONITORING),
    "aws:cloudwatch/dashboard:Dashboard": PricerSpec(_dashboard, Category.MONITORING),
    "aws:cloudwatch/logGroup:LogGroup": PricerSpec(_log_group, Category.MONITORING, (INGESTED, STORED)),
}

FREE = {
    "aws:sns/topic:Topic": "alert volumes stay within SNS's free notifications; not estimated",
    "aws:sns/topicSubscription:TopicSubscription": "no charge",
    "aws:sns/topicPolicy:TopicPolicy": "no charge",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": "no charge (an alarm on its metric is priced)",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "no charge",
    "aws:cloudwatch/logStream:LogStream": "part of its log group",
}
