"""Golden outputs per tier: the committed JSON is what the code prices today, and a change of a price or of
the plan visibly changes it."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from infra.cost.price_table import load_price_table
from tests.cost.goldens import GOLDEN_STACKS, REGENERATE, generated, golden_of, golden_path
from tests.infra.plans import REPO_ROOT, plan_of


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
    after = json.loads(golden_of(plan_of("prod", ("computeDesiredSize=5",))))
    asg = [line for line in after["lines"] if line["resource"] == "app-fleet-asg"]
    assert asg[0]["component"] == "5 x c7g.xlarge (Linux, on-demand)"
    assert after["monthlyTotalUsd"] > before["monthlyTotalUsd"]


@pytest.mark.parametrize("name", sorted(GOLDEN_STACKS))
def test_the_golden_does_not_depend_on_where_the_checkout_lives(name: str) -> None:
    # CI prices a fresh clone in another folder: an absolute path in the output would fail it there.
    text = generated(name)
    assert str(REPO_ROOT) not in text, f"{name}: the estimate names an absolute path"
