"""Golden outputs per tier: the committed JSON is what the code prices today, and a change of a price or of
the plan visibly changes it."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from infra.cost.price_table import load_price_table
from tests.cost.goldens import (
    GOLDEN_STACKS,
    REGENERATE,
    VIEW_ARGUMENTS,
    generated,
    generated_view,
    golden_of,
    golden_path,
    view_path,
)
from tests.infra.plans import REPO_ROOT, plan_of
from tests.infra.test_plan_contract import run_cli


@pytest.mark.parametrize("name", sorted(GOLDEN_STACKS))
def test_the_committed_golden_is_what_the_code_prices(name: str) -> None:
    path = golden_path(name)
    assert path.is_file(), f"{path} is missing: run `{REGENERATE}`"
    assert path.read_text(encoding="utf-8") == generated(name), (
        f"{path} differs from what the code prices now: review the change, then run `{REGENERATE}` and commit"
    )


def test_a_price_change_shows_in_the_golden_output() -> None:
    table = load_price_table()
    nat = table.get("vpc.nat.hour")
    dearer = type(table)(
        **{**table.__dict__, "prices": {**table.prices, nat.key: type(nat)(**{**nat.__dict__, "usd": Decimal("0.05")})}}
    )
    before = json.loads(golden_of(plan_of("prod")))
    after = json.loads(golden_of(plan_of("prod"), dearer))
    changed = {line["resource"] for line, old in zip(after["lines"], before["lines"], strict=True) if line != old}
    assert changed == {"network-nat-0", "network-nat-1", "network-nat-2"}
    assert after["monthlyTotalUsd"] - before["monthlyTotalUsd"] == pytest.approx(3 * 730 * 0.005)


def test_a_plan_change_shows_in_the_golden_output() -> None:
    before = json.loads(golden_of(plan_of("prod")))
    after = json.loads(golden_of(plan_of("prod", ("computeMinSize=3", "computeDesiredSize=5"))))
    asg = [line for line in after["lines"] if line["resource"] == "app-fleet-asg"]
    assert asg[0]["component"] == "5 x c7g.medium (Linux, on-demand)"
    assert after["monthlyTotalUsd"] < before["monthlyTotalUsd"]


@pytest.mark.parametrize("name", sorted(GOLDEN_STACKS))
def test_the_golden_does_not_depend_on_where_the_checkout_lives(name: str) -> None:
    # CI prices a fresh clone in another folder: an absolute path in the output would fail it there.
    text = generated(name)
    assert str(REPO_ROOT) not in text, f"{name}: the estimate names an absolute path"


@pytest.mark.parametrize("name", sorted(VIEW_ARGUMENTS))
def test_the_committed_finance_view_is_what_the_code_prints(name: str) -> None:
    path = view_path(name)
    assert path.is_file(), f"{path} is missing: run `{REGENERATE}`"
    assert path.read_text(encoding="utf-8") == generated_view(name), (
        f"{path} differs from what the code prints now: review the change, then run `{REGENERATE}` and commit"
    )


@pytest.mark.parametrize("name", ["stacks-dev-prod.csv", "compare-tiers-prod.json"])
def test_the_cli_prints_the_golden_view(name: str) -> None:
    result = run_cli("cost", *VIEW_ARGUMENTS[name])
    assert result.returncode == 0, result.stderr
    assert result.stdout == view_path(name).read_text(encoding="utf-8")
