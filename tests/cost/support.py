"""Synthetic plans in the plan JSON's shape, and the priced result of one, for the pricers' unit tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from infra.cost.estimate import estimate
from infra.cost.model import Estimate, Unpriced
from infra.cost.needs import MISSING_PREFIX
from infra.cost.price_table import load_price_table
from infra.cost.usage import Usage, UsageLayer, parse_usage, tier_defaults
from infra.plan.document import Plan

PRICES = load_price_table()
TODAY = dt.date.fromisoformat(PRICES.version)
HOURS = Decimal(730)


def resource(type_token: str, name: str, inputs: dict[str, Any] | None = None, parent: str = "comp") -> dict[str, Any]:
    """A resource as the plan JSON holds it (the mock engine's id of `name` is `name-id`)."""
    return {
        "urn": f"urn:pulumi:test::contentry::{parent}${type_token}::{name}",
        "type": type_token,
        "name": name,
        "parent": f"urn:pulumi:test::contentry::{parent}",
        "provider": "",
        "custom": True,
        "inputs": inputs or {},
        "options": {},
    }


def plan(*resources: dict[str, Any], tier: str = "A", config: dict[str, Any] | None = None) -> Plan:
    settings = {"aws:region": "us-east-1", "tier": tier} if config is None else config
    return Plan("contentry", "test", tier, sorted(resources, key=lambda r: r["urn"]), {}, settings)


def priced(*resources: dict[str, Any], usage: dict[str, Any] | None = None, **plan_args: Any) -> Estimate:
    """The estimate of the synthetic plan, with `usage` (a usage document) as its only usage layer."""
    layer: UsageLayer = parse_usage({"version": 1, **(usage or {})}, "test-usage")
    return estimate(plan(*resources, **plan_args), Usage((layer,)), PRICES, TODAY)


def with_tier_defaults(*resources: dict[str, Any], tier: str = "A") -> Estimate:
    return estimate(plan(*resources, tier=tier), Usage((tier_defaults(tier),)), PRICES, TODAY)


def monthly(result: Estimate, resource_name: str) -> Decimal:
    return result.by_resource().get(resource_name, Decimal(0))


def components(result: Estimate, resource_name: str) -> dict[str, Decimal]:
    return {line.component: line.monthly for line in result.lines if line.resource == resource_name}


def unpriced_resources(result: Estimate) -> list[Unpriced]:
    """The unpriced items of the plan's own resources (without what the tier needs and a synthetic plan lacks:
    tests/cost/test_needs.py covers those)."""
    return [u for u in result.unpriced if not u.resource.startswith(MISSING_PREFIX)]
