"""`python -m infra.cli cost`: the JSON contract, the formats, --against, the budget guard (exit 3) and bad
input (exit 2), through the real command."""

from __future__ import annotations

import csv
import io
import json
import re
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
    total = sum(line["monthlyUsd"] for line in document["lines"])
    assert abs(total - document["monthlyTotalUsd"]) < 0.01 * len(document["lines"])  # cents rounded per line
    assert abs(document["baselineUsd"] + document["usageUsd"] - document["monthlyTotalUsd"]) <= 0.011


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
    # One more t4g.large: 730 h x $0.0672 = $49.06, plus its 30 GB gp3 root volume: $2.40.
    assert re.search(r"~ app-fleet-asg\s+\+\$51\.46 \(\$102\.91 -> \$154\.37\)", out), out
    assert re.search(r"Monthly total: \+\$51\.46 \(\$[\d,.]+ -> \$[\d,.]+\)", out), out


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
