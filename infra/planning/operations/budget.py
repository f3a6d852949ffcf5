"""The stack's AWS Budget as data: the cost filter and the two alerts.

Budgets see a resource's tags only once the tag is activated as a cost-allocation tag (Billing console, Cost
allocation tags; up to 24 hours after the tag first appears), and the filter must name a user-defined tag with
its `user:` prefix: without it the budget matches nothing and shows $0 (terraform-provider-aws#40987, #39850).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

COST_ALLOCATION_TAG: Final = "Stack"
"""One of the provider's default tags (infra/planning/tags.py): every taggable resource of the stack carries it."""
ACTUAL_ALERT_PERCENT: Final = 80
"""Actual spend past 80% of the month's budget: time to look before the month ends."""
FORECAST_ALERT_PERCENT: Final = 100
"""AWS forecasts the month above the budget."""


def cost_allocation_filter(stack: str) -> str:
    """The TagKeyValue filter value for the stack's cost-allocation tag: `user:Stack$prod`."""
    if not stack or "$" in stack:
        raise ValueError(f"'{stack}' cannot be a stack tag value in a budget filter")
    return f"user:{COST_ALLOCATION_TAG}${stack}"


def budget_amount(monthly_budget_usd: Decimal) -> str:
    """The limit as Budgets takes it: a decimal string with two places."""
    if monthly_budget_usd <= 0:
        raise ValueError(f"a budget is positive, got {monthly_budget_usd}")
    return f"{monthly_budget_usd.quantize(Decimal('0.01'))}"


def budget_alerts() -> list[tuple[str, int]]:
    """(notification type, percent of the budget) of each alert: actual spend, then the forecast."""
    return [("ACTUAL", ACTUAL_ALERT_PERCENT), ("FORECASTED", FORECAST_ALERT_PERCENT)]
