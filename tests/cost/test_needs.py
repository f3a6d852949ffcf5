"""What each tier needs and its plan may lack: never priced at $0, always an explicit unpriced baseline item, so
that the CLI, the golden files and the finance report give one answer per tier."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from infra.cost.finance import tier_report
from infra.cost.model import BudgetStatus, Category, Kind
from infra.cost.needs import MISSING_PREFIX, TIER_NEEDS
from infra.cost.render import cents
from infra.cost.stacks import estimate_of
from infra.cost.tiers import TIERS
from tests.cost.goldens import GOLDEN_STACKS, golden_path
from tests.cost.support import PRICES, TODAY, priced, resource
from tests.infra.plans import REPO_ROOT, plan_of
from tests.infra.test_plan_contract import run_cli

REQUIRED = (Category.COMPUTE, Category.LOAD_BALANCER)
TIER_STACKS = {"A": ("prod", ()), "B": ("prod", ("tier=B",)), "C": ("dev", ())}


@pytest.mark.parametrize("tier", sorted(TIER_STACKS))
def test_every_tier_has_a_compute_and_a_load_balancer_line_or_an_explicit_unpriced_entry(tier: str) -> None:
    stack, overrides = TIER_STACKS[tier]
    result = estimate_of(plan_of(stack, overrides), REPO_ROOT, None, PRICES, TODAY)
    for category in REQUIRED:
        lines = [line for line in result.lines if line.category is category and line.kind is Kind.BASELINE]
        gaps = [u for u in result.unpriced if u.category is category and u.kind is Kind.BASELINE]
        assert lines or gaps, f"tier {tier}: no {category.value} line and no unpriced entry for it"


@pytest.mark.parametrize("tier", sorted(TIER_NEEDS))
def test_a_plan_without_what_its_tier_needs_lists_each_need_as_an_unpriced_baseline_item(tier: str) -> None:
    config = {"aws:region": "us-east-1", "tier": tier, "monthlyBudgetUsd": "100"}
    result = priced(resource("aws:ec2/natGateway:NatGateway", "nat"), tier=tier, config=config)
    missing = [u for u in result.unpriced if u.resource.startswith(MISSING_PREFIX)]
    assert [u.type for u in missing] == [need.types[0] for need in TIER_NEEDS[tier]]
    assert {u.kind for u in missing} == {Kind.BASELINE}
    assert {u.category for u in missing} >= set(REQUIRED)
    assert result.total < 100
    assert result.budget_status is BudgetStatus.UNKNOWN, "a $33 NAT gateway alone must not pass a $100 budget"
    assert any("the total is a lower bound and a budget cannot be checked" in w for w in result.warnings)


def test_a_need_is_met_by_any_resource_of_its_types() -> None:
    group = resource("aws:autoscaling/group:Group", "fleet", {"desiredCapacity": 1})
    alb = resource("aws:lb/loadBalancer:LoadBalancer", "alb", {"subnets": ["a"]})
    result = priced(group, alb, tier="C")
    assert not [u for u in result.unpriced if u.resource.startswith(MISSING_PREFIX)]


def test_tier_b_gives_one_complete_answer_in_the_cli_the_golden_file_and_the_report() -> None:
    """Tier B's EKS compute is in the plan: every baseline item is priced, the budget is checked (exit 0), and the
    CLI, the golden file and the finance report agree on the total."""
    stack, overrides = GOLDEN_STACKS["prod-tier-B"]
    assert (stack, overrides) == ("prod", ("tier=B",))
    golden = json.loads(golden_path("prod-tier-B").read_text(encoding="utf-8"))
    cli = run_cli("cost", "--stack", stack, *(a for o in overrides for a in ("--set", o)), "--format", "json")
    printed = json.loads(cli.stdout)
    assert cli.returncode == 0, cli.stderr
    for document in (golden, printed):
        assert document["budgetStatus"] == "within"
        assert document["complete"] is True
        assert not [u for u in document["unpriced"] if u["kind"] == "baseline"]
    assert printed["monthlyTotalUsd"] == golden["monthlyTotalUsd"]
    spec = next(s for s in TIERS if s.tier == "B")
    report = tier_report(spec, REPO_ROOT, PRICES, TODAY)
    assert cents(report.estimate.total) == Decimal(str(golden["monthlyTotalUsd"]))
    lines = {line.price_key for line in report.estimate.lines}
    assert {"eks.cluster", "ec2.instance.c7g.2xlarge", "ebs.gp3.storage", "elb.application.hour", "elb.application.lcu",
            "kms.key", "cloudwatch.logs.ingest"} <= lines  # fmt: skip
