"""The golden cost outputs: `cost --format json` of each tier's stack, and the finance views (`cost --stacks dev,prod`
and `cost --compare-tiers`, JSON and CSV), as the code prices them today.

`python -m tests.cost.goldens --write` (part of `make cost-docs`) rewrites them after a change to the program,
the price table or the usage defaults; tests/cost/test_goldens.py fails until they are rewritten.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from infra.cost import views
from infra.cost.finance import stacks_view
from infra.cost.price_table import PriceTable, load_price_table
from infra.cost.render import to_json
from infra.cost.stacks import estimate_of
from infra.plan.document import Plan
from tests.infra.plans import REPO_ROOT, plan_of

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
REGENERATE = "make cost-docs"
# One stack per tier, as the finance report prices them.
GOLDEN_STACKS = {"prod": ("prod", ()), "prod-tier-B": ("prod", ("tier=B",)), "dev": ("dev", ())}


def golden_of(plan: Plan, prices: PriceTable | None = None) -> str:
    prices = prices or load_price_table()
    # Dated by the price table's version, not the day the test runs: the output changes only with the code.
    today = dt.date.fromisoformat(prices.version)
    return to_json(estimate_of(plan, REPO_ROOT, None, prices, today))


def generated(name: str, prices: PriceTable | None = None) -> str:
    stack, overrides = GOLDEN_STACKS[name]
    return golden_of(plan_of(stack, overrides), prices)


def golden_path(name: str) -> Path:
    return GOLDEN_DIR / f"{name}.json"


# The finance views, each as `python -m infra.cli cost ...` prints it: file name -> (its arguments, the output).
VIEW_ARGUMENTS = {
    "stacks-dev-prod.json": ("--stacks", "dev,prod", "--format", "json"),
    "stacks-dev-prod.csv": ("--stacks", "dev,prod", "--format", "csv"),
    "compare-tiers-prod.json": ("--compare-tiers", "--stack", "prod", "--format", "json"),
    "compare-tiers-prod.csv": ("--compare-tiers", "--stack", "prod", "--format", "csv"),
}


def generated_view(name: str, prices: PriceTable | None = None) -> str:
    prices = prices or load_price_table()
    today = dt.date.fromisoformat(prices.version)
    if name.startswith("stacks-"):
        rows = stacks_view([plan_of("dev"), plan_of("prod")], REPO_ROOT, prices, today)
        return views.to_json(views.stacks_record(rows)) if name.endswith(".json") else views.stacks_csv(rows)
    columns = views.compare_tiers("prod", (), REPO_ROOT, prices, today)
    if name.endswith(".json"):
        return views.to_json(views.compare_record("prod", columns))
    return views.compare_csv(columns)


def view_path(name: str) -> Path:
    return GOLDEN_DIR / name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cost.goldens", description=__doc__)
    parser.add_argument("--write", action="store_true", required=True, help="rewrite tests/cost/golden/*")
    parser.parse_args(argv)
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    for name in GOLDEN_STACKS:
        golden_path(name).write_text(generated(name), encoding="utf-8")
        print(f"wrote {golden_path(name)}")
    for name in VIEW_ARGUMENTS:
        view_path(name).write_text(generated_view(name), encoding="utf-8")
        print(f"wrote {view_path(name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
