"""`python -m infra.cli cost`: the JSON contract, the formats, --against, the budget guard (exit 3) and bad
input (exit 2), through the real command."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from tests.infra.plans import plan_of
from tests.infra.test_plan_contract import run_cli

LINE_KEYS = {"resource", "type", "component", "quantity", "unit", "unitPriceUsd", "monthlyUsd", "kind", "source"}
GENEROUS = ("--set", "monthlyBudgetUsd=100000")


def cost(*args: str) -> tuple[int, str, str]:
    result = run_cli("cost", *args)
    return result.returncode, result.stdout, result.stderr


def test_json_has_the_contract_fields_and_adds_up() -> None:
    code, out, err = cost("--stack", "prod", "--format", "json", *GENEROUS)
    assert code == 0, err
    document = json.loads(out)
    assert {"stack", "tier", "currency", "monthlyTotalUsd", "baselineUsd", "usageUsd", "lines", "unpriced"} <= set(
        document
    )
    assert (document["stack"], document["tier"], document["currency"]) == ("prod", "A", "USD")
    assert document["lines"], "a production stack with no cost lines"
    for line in document["lines"]:
        assert set(line) >= LINE_KEYS, line
        assert line["kind"] in ("baseline", "usage")
        assert line["source"], f"{line['resource']}: a line without a source"
    # The displayed lines add up to the displayed total, to the cent (and so do baseline and usage-based).
    total = sum(Decimal(str(line["monthlyUsd"])) for line in document["lines"])
    assert total == Decimal(str(document["monthlyTotalUsd"]))
    assert Decimal(str(document["baselineUsd"])) + Decimal(str(document["usageUsd"])) == total
    # Atlas backup storage and data transfer are unpriced usage: they never make the budget uncheckable.
    assert {u["kind"] for u in document["unpriced"]} == {"usage"}
    assert (document["budgetStatus"], document["overBudget"], document["complete"]) == ("within", False, True)


def test_over_budget_exits_3_naming_the_estimate_the_budget_and_the_key() -> None:
    code, out, err = cost("--stack", "dev", "--set", "monthlyBudgetUsd=10", "--format", "json")
    assert code == 3
    total = json.loads(out)["monthlyTotalUsd"]
    assert f"${total:,.2f} a month" in err
    assert "$10.00" in err
    assert "monthlyBudgetUsd" in err
    assert "Traceback" not in err


def test_within_budget_exits_0_and_says_so() -> None:
    code, out, err = cost("--stack", "dev", *GENEROUS)
    assert code == 0, err
    assert "within budget" in out
    assert "Monthly total: $" in out


def test_against_a_saved_plan_shows_the_change_per_resource_and_in_total(tmp_path: Path) -> None:
    smaller = tmp_path / "before.json"
    smaller.write_text(plan_of("dev", ("computeDesiredSize=2",)).to_json(), encoding="utf-8")
    code, out, err = cost("--stack", "dev", "--set", "computeDesiredSize=3", "--against", str(smaller), *GENEROUS)
    assert code == 0, err
    # One more t4g.medium: 730 h x $0.0336 = $24.53, its 30 GB gp3 root volume $2.40 and its detailed monitoring
    # (7 metrics x $0.30) $2.10.
    assert re.search(r"~ app-fleet-asg\s+\+\$29\.03 \(\$58\.06 -> \$87\.08\)", out), out
    assert re.search(r"Monthly total: \+\$29\.03 \(\$[\d,.]+ -> \$[\d,.]+\)", out), out


def test_against_another_stack_in_json(tmp_path: Path) -> None:
    code, out, err = cost("--stack", "prod", "--against", "dev", "--format", "json", *GENEROUS)
    assert code == 0, err
    diff = json.loads(out)["diff"]
    assert diff["against"] == "stack dev"
    assert diff["changeUsd"] > 0
    assert {c["change"] for c in diff["resources"]} <= {"+", "-", "~"}


def test_a_saved_plan_alone_is_enough(tmp_path: Path) -> None:
    saved = tmp_path / "prod.json"
    saved.write_text(plan_of("prod", ("monthlyBudgetUsd=1000",)).to_json(), encoding="utf-8")
    code, out, _ = cost("--plan", str(saved), "--format", "json")
    document = json.loads(out)
    assert code == 3, "the budget the plan was made with travels in its config section"
    assert document["monthlyBudgetUsd"] == 1000


def test_markdown_and_csv() -> None:
    code, out, err = cost("--stack", "dev", "--format", "markdown", *GENEROUS)
    assert code == 0, err
    assert "| Resource | Component | Quantity | Unit price | Monthly | Kind | Source |" in out
    code, out, err = cost("--stack", "dev", "--format", "csv", *GENEROUS)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows
    assert rows[0]["monthlyUsd"].count(".") == 1
    assert len(rows[0]["monthlyUsd"].split(".")[1]) == 2
    total = rows[-1]
    assert (total["resource"], total["kind"]) == ("TOTAL", "total")
    priced_rows = [r for r in rows if r["kind"] in ("baseline", "usage")]
    assert sum(Decimal(r["monthlyUsd"]) for r in priced_rows) == Decimal(total["monthlyUsd"])


# A type the price table lacks, small enough for the fleet's MongoDB connection budget (infra/capacity).
UNPRICED_TYPE = ("--set", "computeInstanceType=c7gd.medium")


def test_an_unpriced_baseline_item_makes_a_budget_uncheckable_exit_4_naming_it() -> None:
    """The reviewer's case: an instance type without a price used to lower the total below the budget and pass."""
    code, out, err = cost("--stack", "prod", *UNPRICED_TYPE, "--set", "monthlyBudgetUsd=10000", "--format", "json")
    document = json.loads(out)
    assert code == 4, err
    assert document["monthlyTotalUsd"] < 10000
    assert (document["overBudget"], document["budgetStatus"], document["complete"]) == (None, "unknown", False)
    assert "budget of $10,000.00 (monthlyBudgetUsd) cannot be checked" in err
    assert "app-fleet-asg" in err
    assert "ec2.instance.c7gd.medium" in err
    assert "Traceback" not in err


def test_over_budget_wins_over_unpriced_items_when_the_priced_lines_alone_exceed_it() -> None:
    code, _, err = cost("--stack", "prod", *UNPRICED_TYPE, "--set", "monthlyBudgetUsd=5000", "--format", "json")
    assert code == 3, err


def test_against_marks_a_resource_with_unpriced_parts_unknown_not_a_saving(tmp_path: Path) -> None:
    current = tmp_path / "current.json"
    current.write_text(plan_of("prod").to_json(), encoding="utf-8")
    code, out, err = cost("--stack", "prod", *UNPRICED_TYPE, "--against", str(current), *GENEROUS)
    assert code == 4, err
    assert re.search(r"\? app-fleet-asg\s+unknown \(priced parts \$278\.99 -> \$\d+\.\d\d; unpriced: 9 x c7gd", out), (
        out
    )
    assert "~ app-fleet-asg" not in out
    assert "Monthly total: unknown" in out


@pytest.mark.parametrize("extra", [["--stack", "prod"], ["--set", "tier=B"], ["--stack", "dev", "--set", "tier=B"]])
def test_a_saved_plan_refuses_stack_and_set_with_exit_2(tmp_path: Path, extra: list[str]) -> None:
    saved = tmp_path / "dev.json"
    saved.write_text(plan_of("dev").to_json(), encoding="utf-8")
    code, out, err = cost("--plan", str(saved), *extra)
    assert code == 2
    assert "--plan prices a saved plan as it was made: drop --stack/--set" in err
    assert not out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--stack", "staging"], "unknown stack 'staging'"),
        (["--stack", "dev", "--against", "missing.json"], "missing.json: cannot be read"),
        (["--plan", "nowhere.json"], "nowhere.json: cannot be read"),
    ],
)
def test_bad_input_exits_2_without_a_traceback(args: list[str], expected: str) -> None:
    code, out, err = cost(*args)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err + out


def test_a_bad_usage_file_exits_2_naming_the_key(tmp_path: Path) -> None:
    usage = tmp_path / "usage.yaml"
    usage.write_text("aws:lb/loadBalancer:LoadBalancer:\n  lcu: 3\n", encoding="utf-8")
    code, _, err = cost("--stack", "dev", "--usage", str(usage))
    assert code == 2
    assert "unknown usage key 'lcu'" in err
    assert "lcuPerHour" in err


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_stack_fits_its_budget_with_a_tight_margin(stack: str) -> None:
    """The preset budget is a guard: the default shape passes, and a change that adds ~15% does not."""
    code, out, err = cost("--stack", stack, "--format", "json")
    document = json.loads(out)
    total, budget = document["monthlyTotalUsd"], document["monthlyBudgetUsd"]
    assert code == 0, f"{stack}: ${total} over its budget ${budget}: {err}"
    assert total * 1.15 > budget, f"{stack}: budget ${budget} is so far above ${total} it would catch nothing"


def test_the_finance_views_refuse_what_they_cannot_honour() -> None:
    code, _, err = cost("--stacks", "dev,prod", "--plan", "build/plan-dev.json")
    assert code == 2
    assert "--stacks and --compare-tiers price stacks as committed" in err
    code, _, err = cost("--stacks", "dev,nope")
    assert code == 2
    assert "nope" in err
    assert "Traceback" not in err


def test_compare_tiers_as_a_table_names_each_tier_and_its_cost_per_user() -> None:
    code, out, err = cost("--compare-tiers", "--stack", "dev", "--format", "markdown")
    assert code == 0, err
    for text in ("Tier A", "Tier B", "Tier C", "Per 1,000 users", "Per million requests", "Yearly"):
        assert text in out
