"""CloudWatch alarms, dashboards and log groups; SNS topics for alerts; budgets; the CloudTrail trail."""

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

SNS_PUBLISHES = UsageKey("publishes", "requests/month", "Messages published to the topic (alarm and OK transitions)")
SNS_EMAILS = UsageKey("emailNotifications", "notifications/month", "Messages delivered to email subscriptions")
SNS_HTTPS = UsageKey("httpsNotifications", "notifications/month", "Messages delivered to HTTPS subscriptions")
TRAIL_EXTRA_COPY_EVENTS = UsageKey(
    "additionalCopyEvents",
    "events/month",
    "Management events this trail delivers as an additional copy: 0 when it is the account's only trail",
)
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


def _usage_after_allowance(bill: Bill, key: UsageKey, allowance: str, what: str, price: str, per: Decimal) -> None:
    amount = bill.usage(key.name)
    if amount is None:
        return
    free = bill.context.allowances.take(allowance, amount, bill.context.prices)
    note = f" (after {free:,} free a month per account)" if free else ""
    bill.add(f"{what}{note}", (amount - free) / per, price, kind=Kind.USAGE)


def _sns_topic(bill: Bill) -> None:
    """A topic costs nothing itself: its publishes and deliveries do, past SNS's monthly free tier (alerts stay well
    within it, so these lines usually vanish: the allowance is reported instead)."""
    _usage_after_allowance(bill, SNS_PUBLISHES, "sns.requests", "API requests", "sns.requests", Decimal(1_000_000))
    _usage_after_allowance(bill, SNS_EMAILS, "sns.email", "Email notifications", "sns.email", Decimal(100_000))
    _usage_after_allowance(bill, SNS_HTTPS, "sns.https", "HTTPS notifications", "sns.https", Decimal(100_000))
    if not bill.lines and not bill.unpriced:
        bill.free("within SNS's free tier (1M requests, 1,000 emails, 100,000 HTTPS deliveries a month per account)")


def _budget(bill: Bill) -> None:
    """A budget that only notifies (no budget actions) is billed at $0 a budget-day (AWS Price List, AWSBudgets)."""
    days = bill.context.hours / HOURS_PER_DAY
    bill.add("Budget with alerts, no actions (budget-days)", days, "budgets.budget-day")


def _budget_action(bill: Bill) -> None:
    """Action-enabled budgets: 62 budget-days a month free per account (two budgets), then billed a day."""
    days = bill.context.hours / HOURS_PER_DAY
    free = bill.context.allowances.take("budgets.action-enabled-days", days, bill.context.prices)
    note = f" (after {free:,.2f} free a month per account)" if free else ""
    bill.add(f"Action-enabled budget-days{note}", days - free, "budgets.action-enabled-day")


def _trail(bill: Bill) -> None:
    """The account's first copy of management events costs nothing (CloudTrail pricing); another trail of the
    same events is billed per event. Data and Insights events are not selected. Its storage is the bucket's."""
    extra = bill.usage(TRAIL_EXTRA_COPY_EVENTS.name)
    if extra:
        bill.add(
            "Management events (additional copy)",
            extra / Decimal(100_000),
            "cloudtrail.management-events.additional",
            kind=Kind.USAGE,
        )
    elif extra is not None:
        bill.free("the account's first copy of management events is free; its log files are priced on the bucket")


PRICERS = {
    "aws:sns/topic:Topic": PricerSpec(_sns_topic, Category.MONITORING, (SNS_PUBLISHES, SNS_EMAILS, SNS_HTTPS)),
    "aws:budgets/budget:Budget": PricerSpec(_budget, Category.MONITORING),
    "aws:budgets/budgetAction:BudgetAction": PricerSpec(_budget_action, Category.MONITORING),
    "aws:cloudtrail/trail:Trail": PricerSpec(_trail, Category.MONITORING, (TRAIL_EXTRA_COPY_EVENTS,)),
    "aws:cloudwatch/metricAlarm:MetricAlarm": PricerSpec(_metric_alarm, Category.MONITORING),
    "aws:cloudwatch/dashboard:Dashboard": PricerSpec(_dashboard, Category.MONITORING),
    "aws:cloudwatch/logGroup:LogGroup": PricerSpec(_log_group, Category.MONITORING, (INGESTED, STORED)),
}

FREE = {
    "aws:sns/topicSubscription:TopicSubscription": "no charge",
    "aws:sns/topicPolicy:TopicPolicy": "no charge",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": "no charge (an alarm on its metric is priced)",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "no charge",
    "aws:cloudwatch/logStream:LogStream": "part of its log group",
}
