"""The pricers of operations and edge security on synthetic resources: SNS past its free tier, budgets, the
CloudTrail trail, Container Insights, and the web ACL's rules and requests, with sums a person can check."""

from __future__ import annotations

from decimal import Decimal

from infra.cost.model import Kind
from tests.cost.support import HOURS, components, monthly, priced, resource, unpriced_resources

TOPIC = "aws:sns/topic:Topic"


def test_alert_volumes_stay_in_snss_free_tier_and_the_rest_is_billed() -> None:
    usage = {TOPIC: {"publishes": 200, "emailNotifications": 200, "httpsNotifications": 200}}
    within = priced(resource(TOPIC, "alerts-topic"), usage=usage)
    assert monthly(within, "alerts-topic") == 0
    assert any(f.resource == "alerts-topic" and "free tier" in f.reason for f in within.free)
    assert within.total == 0
    heavy = {TOPIC: {"publishes": 3_000_000, "emailNotifications": 101_000, "httpsNotifications": 200_000}}
    lines = components(priced(resource(TOPIC, "alerts-topic"), usage=heavy), "alerts-topic")
    assert lines["API requests (after 1,000,000 free a month per account)"] == 2 * Decimal("0.50")
    assert lines["Email notifications (after 1,000 free a month per account)"] == 1 * Decimal("2.00")
    assert lines["HTTPS notifications (after 100,000 free a month per account)"] == 1 * Decimal("0.06")


def test_a_budget_that_only_notifies_costs_nothing_and_actions_are_billed_past_62_days() -> None:
    result = priced(resource("aws:budgets/budget:Budget", "budget-monthly"))
    (line,) = [line for line in result.lines if line.resource == "budget-monthly"]
    assert (line.quantity, line.unit_price, line.monthly) == (HOURS / 24, Decimal("0.00"), 0)
    assert line.source == "aws-price-list-budgets"
    # Three action-enabled budgets: 3 x 30.4 budget-days, 62 of them free.
    actions = [resource("aws:budgets/budgetAction:BudgetAction", f"act-{n}") for n in range(3)]
    total = priced(*actions).total
    assert abs(total - (3 * HOURS / 24 - 62) * Decimal("0.10")) < Decimal("0.000001")  # $2.93


def test_the_accounts_only_trail_is_free_and_a_second_copy_is_billed_per_event() -> None:
    trail = resource("aws:cloudtrail/trail:Trail", "audit-trail-trail")
    first = priced(trail, usage={"aws:cloudtrail/trail:Trail": {"additionalCopyEvents": 0}})
    assert monthly(first, "audit-trail-trail") == 0
    assert any(f.resource == "audit-trail-trail" and "first copy" in f.reason for f in first.free)
    second = priced(trail, usage={"aws:cloudtrail/trail:Trail": {"additionalCopyEvents": 1_500_000}})
    assert monthly(second, "audit-trail-trail") == 15 * Decimal("2.00")
    unset = priced(trail)  # no usage file says: reported as depending on usage, never $0
    assert [u.kind for u in unpriced_resources(unset)] == [Kind.USAGE]


def test_container_insights_metrics_are_an_unpriced_usage_item_and_other_addons_free() -> None:
    observability = resource("aws:eks/addon:Addon", "ci-addon", {"addonName": "amazon-cloudwatch-observability"})
    coredns = resource("aws:eks/addon:Addon", "coredns", {"addonName": "coredns"})
    result = priced(observability, coredns)
    (item,) = unpriced_resources(result)
    assert (item.resource, item.kind) == ("ci-addon", Kind.USAGE)
    assert "per observation" in item.reason
    assert any(f.resource == "coredns" for f in result.free)
    assert result.budget_status.value != "unknown"  # a usage gap never blocks the budget check


def test_each_web_acl_pays_its_rules_and_the_requests_it_inspects() -> None:
    rules = [{"name": f"r{n}", "statement": {}} for n in range(5)]
    acl = resource("aws:wafv2/webAcl:WebAcl", "cdn-firewall-acl", {"rules": rules})
    lines = components(priced(acl, usage={"aws:wafv2/webAcl:WebAcl": {"requests": 18_000_000}}), "cdn-firewall-acl")
    assert lines == {
        "Web ACL": Decimal("5.00"),
        "Rules and rule groups (5)": Decimal("5.00"),
        "Requests inspected": 18 * Decimal("0.60"),
    }
