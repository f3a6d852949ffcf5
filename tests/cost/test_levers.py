"""The lever search and what finance reads from it: the presets are the cheapest sized configuration within each
environment's rules, production never gets a single NAT, commitments sit beside the on-demand figure, and each
target's verdict and what it buys follow from the prices."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from functools import cache

import pytest

from infra.capacity.traffic import peak_rps
from infra.cost.finance import TierReport, business_support, commitments, reserved_ratio, tier_report
from infra.cost.levers import STRUCTURAL, Validator
from infra.cost.tiers import SPECS
from tests.cost.support import PRICES, TODAY
from tests.infra.plans import REPO_ROOT


@cache
def report(tier: str) -> TierReport:
    return tier_report(SPECS[tier], REPO_ROOT, PRICES, TODAY)


@pytest.mark.parametrize("tier", ["A", "B", "C"])
def test_the_presets_are_the_cheapest_combination_that_carries_the_peak(tier: str) -> None:
    found = report(tier)
    assert found.presets_are_best, f"tier {tier}: infra/config/presets.py is not the search's cheapest: {found.fleet}"
    fleet, _, estimate = found.best.chosen
    assert estimate.total == found.estimate.total, "the search prices what `cost` prints"
    sizing = fleet.sizing
    needed = sizing.pods.needed if tier == "B" else sizing.fleet.needed  # type: ignore[union-attr]
    assert needed >= 1
    assert all(candidate.total >= estimate.total for candidate in found.search.priced)
    assert peak_rps(found.model) > 0


def test_production_is_searched_only_within_its_rules() -> None:
    assert set(STRUCTURAL) == {"C"}, "single NAT strategies are searched for development only"
    validator = Validator(REPO_ROOT, SPECS["A"])
    assert "development stacks only" in validator.problems(("natStrategy=instance",))
    assert "use one-per-az" in validator.problems(("natStrategy=single",))
    assert validator.problems(("cacheReplicas=0",))
    assert not validator.problems(())
    refused = report("A").search.refused
    assert all(candidate.estimate is None for candidate in refused)


def test_tier_c_tried_both_nat_strategies_and_the_cdn_both_ways() -> None:
    structures = {candidate.structure for candidate in report("C").search.priced}
    assert structures == set(STRUCTURAL["C"])
    assert report("C").best.structure == ("natStrategy=instance", "cdnEnabled=true")


def test_commitments_are_a_view_beside_the_on_demand_figure() -> None:
    ratio = reserved_ratio(PRICES)
    assert ratio == Decimal("2.428") / Decimal("3.557")
    for tier in ("A", "B", "C"):
        estimate = report(tier).estimate
        view = commitments(estimate, PRICES)
        assert view.on_demand == estimate.total
        assert view.monthly <= view.on_demand
        for line, saved in view.savings:
            assert ".cache.m6g." in line.price_key, "only what a dated source prices"
            assert saved == line.monthly * (1 - ratio)
    assert commitments(report("C").estimate, PRICES).savings == (), "tier C's t4g cache has no sourced reserved rate"


def test_business_support_is_optional_and_on_aws_charges_only() -> None:
    estimate = report("A").estimate
    aws = sum((line.monthly for line in estimate.lines if not line.price_key.startswith("atlas.")), Decimal(0))
    assert business_support(estimate, PRICES) == max(Decimal(100), aws / 10)
    assert report("A").monthly == estimate.total, "never in the total"


@pytest.mark.parametrize("tier", ["A", "B", "C"])
def test_what_a_target_buys_costs_at_most_the_target(tier: str) -> None:
    found = report(tier)
    affordable = found.affordable
    if found.monthly <= found.spec.target:
        assert affordable is None
        return
    assert affordable is not None
    assert affordable.users < found.users
    assert affordable.monthly <= found.spec.target or affordable.users == 0
    assert affordable.floor <= affordable.monthly
    if affordable.users:
        assert f"buys about {affordable.users:,} concurrent users" in found.verdict.text
    else:
        # Nothing fits: the verdict names the floor that is above the target instead of "0 users".
        assert affordable.floor > found.spec.target
        assert f"floor (its smallest fleet the rules allow, with almost no traffic) is ${affordable.floor:,.2f}" in (
            found.verdict.text
        )


def test_the_verdict_says_on_demand_with_commitments_or_not_at_all() -> None:
    found = report("A")
    generous = replace(found, spec=replace(found.spec, target=found.monthly + 1))
    assert generous.verdict.meets == "on demand"
    between = (found.commitments.monthly + found.monthly) / 2
    assert found.commitments.monthly < found.monthly
    assert replace(found, spec=replace(found.spec, target=between)).verdict.meets == "with commitments"
    assert found.verdict.meets == "no"
