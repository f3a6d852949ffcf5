"""docs/costs.md is generated, never typed: the committed file must be exactly what the code generates, and what
it says must match the figures it shows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from infra.cost.model import Category
from infra.cost.render import displayed_split
from infra.cost.report import REGENERATE, REPORT_PATH, TIERS, TierResult, _category_rows, _left_out, render_report
from infra.cost.stacks import estimate_of
from tests.cost.support import PRICES, TODAY
from tests.infra.plans import REPO_ROOT, plan_of

SPECS = {spec.tier: spec for spec in TIERS}


def _tier_a() -> TierResult:
    return TierResult(SPECS["A"], estimate_of(plan_of("prod"), REPO_ROOT, None, PRICES, TODAY))


def test_the_committed_finance_report_is_what_the_code_generates() -> None:
    path = REPO_ROOT / REPORT_PATH
    assert path.is_file(), f"{REPORT_PATH} is missing: run `{REGENERATE}`"
    generated = render_report(REPO_ROOT)
    assert path.read_text(encoding="utf-8") == generated, (
        f"{REPORT_PATH} differs from what the code generates: run `{REGENERATE}` and commit the result"
    )
    for section in ("## The three tiers side by side", "```mermaid", "## What the seed's tables left out",
                    "## What it would take to meet each target", "## Sources"):  # fmt: skip
        assert section in generated
    assert "medium: a third party's copy of the AWS Price List API" in generated, "ElastiCache: medium confidence"
    assert "Free allowances" in generated
    assert "per AWS account" in generated
    assert "`python -m infra.cli cost --stack prod --set tier=B`" in generated
    assert "modeled" not in generated.lower(), "every tier's total is what `cost` prints, nothing modeled"
    assert "at least $" not in generated.split("## Each tier, line by line")[0], "no total is a lower bound"


@pytest.mark.parametrize(
    ("category", "named"),
    [
        (Category.MONITORING, ("Data ingested", "Storage (365 days kept)", "alarm")),
        (Category.LOAD_BALANCER, ("Application load balancer", "Load balancer capacity units")),
    ],
)
def test_a_rows_specs_name_every_component_it_adds_up(category: Category, named: tuple[str, ...]) -> None:
    """The reviewer's case: 'Monitoring and logs' read 'Standard alarm (2 metric(s)) $30.48' though nearly all of it
    was log ingestion and storage, and the load balancer row hid its capacity units."""
    specs, amount = _category_rows(_tier_a().estimate)[category]
    for name in named:
        assert name in specs, f"{category.value}: '{name}' missing from {specs!r}"
    assert specs.count("$") == len(specs.split("; ")), "every component with its amount"
    assert amount > 0


def test_the_rows_of_a_tier_add_up_to_its_total() -> None:
    estimate = _tier_a().estimate
    rows = _category_rows(estimate)
    assert sum((amount for _, amount in rows.values()), Decimal(0)) == displayed_split(estimate)[0]


def test_what_the_seed_left_out_includes_the_cache_replica() -> None:
    """The seed's ElastiCache row priced one node: the replica the architecture adds (~$87) is left out."""
    text = "\n".join(_left_out(_tier_a()))
    cache = next(line for line in text.splitlines() if line.startswith(f"- {Category.CACHE.value}"))
    assert "730 of 1,460 hour beyond the seed's one node" in cache
    assert "$87.0" in cache
