"""docs/costs.md is generated from a Jinja2 template, never typed: the committed file must be exactly what the code
generates, open with the one-page summary finance asked for, and agree with what `cost` prints."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache
from typing import Any

import pytest

from infra.cost import report as report_module
from infra.cost.report import REGENERATE, REPORT_PATH, TEMPLATE, TEMPLATES, render_report, report_context
from tests.cost.goldens import golden_path
from tests.cost.support import PRICES
from tests.infra.plans import REPO_ROOT

GOLDEN_OF_TIER = {"A": "prod", "B": "prod-tier-B", "C": "dev"}
SECTIONS = (
    "## Summary",
    "## What each target buys",
    "## The traffic model",
    "## Measured throughput",
    "## Sizing",
    "## The levers, combined",
    "## Commitments (optional view, never the on-demand figure)",
    "## Baseline and traffic-driven cost",
    "## Beside the total",
    "## What the stacks have: security and encryption",
    "## The tiers side by side",
    "## Each tier, line by line",
    "## Sources",
)


@cache
def context() -> dict[str, Any]:
    return report_context(REPO_ROOT, PRICES)


@cache
def generated() -> str:
    return report_module._environment().get_template(TEMPLATE).render(context())


def summary() -> str:
    return generated().split("## Summary", 1)[1].split("\n## ", 1)[0]


def summary_rows() -> dict[str, list[str]]:
    rows = [line for line in summary().splitlines() if re.match(r"^\| [ABC] \|", line)]
    return {cells[1].strip(): [c.strip() for c in cells[1:-1]] for cells in (row.split("|") for row in rows)}


def test_the_committed_finance_report_is_what_the_code_generates() -> None:
    path = REPO_ROOT / REPORT_PATH
    assert path.is_file(), f"{REPORT_PATH} is missing: run `{REGENERATE}`"
    assert path.read_text(encoding="utf-8") == render_report(REPO_ROOT), (
        f"{REPORT_PATH} differs from what the code generates: run `{REGENERATE}` and commit the result"
    )


def test_the_report_comes_from_the_template_in_the_documented_order() -> None:
    assert (TEMPLATES / TEMPLATE).is_file()
    text = generated()
    positions = [text.index(section) for section in SECTIONS]
    assert positions == sorted(positions), "the summary first, then the detail"
    assert text.index("## Summary") < 800, "the summary opens the file"


def test_the_summary_is_one_page_answering_each_tier() -> None:
    assert len(summary().strip().splitlines()) <= 12, "one page: the table and a few notes"
    rows = summary_rows()
    assert sorted(rows) == ["A", "B", "C"]
    header = next(line for line in summary().splitlines() if line.startswith("| Tier |"))
    for column in ("Concurrent users at peak, p95 < 200 ms", "Measured how", "Monthly", "Yearly", "Per 1,000 users",
                   "Target", "Verdict"):  # fmt: skip
        assert column in header
    for tier, cells in rows.items():
        assert "requests/s per vCPU (`bench`," in cells[2], f"{tier}: how the users were measured"
        assert cells[-1].startswith(("meets it", "not met")), f"{tier}: a verdict"


@pytest.mark.parametrize("tier", ["A", "B", "C"])
def test_each_summary_total_is_what_cost_prints_and_the_year_is_twelve_months(tier: str) -> None:
    golden = json.loads(golden_path(GOLDEN_OF_TIER[tier]).read_text(encoding="utf-8"))
    cells = summary_rows()[tier]
    monthly = Decimal(cells[4].strip("*$").replace(",", ""))
    yearly = Decimal(cells[5].strip("$").replace(",", ""))
    assert monthly == Decimal(str(golden["monthlyTotalUsd"]))
    assert yearly == monthly * 12


def test_the_seed_s_figures_as_the_seed_printed_them_and_the_price_age_on_one_line() -> None:
    text = summary()
    assert "~$1,200 (A), ~$1,400 (B), ~$180 (C)" in text, "the seed's round figures, no false precision"
    age = [line for line in text.splitlines() if "Price age" in line or "prices used are younger" in line]
    assert len(age) == 1


def test_what_each_target_buys_says_it_for_every_tier() -> None:
    section = generated().split("## What each target buys", 1)[1].split("\n## ", 1)[0]
    for tier in ("A", "B", "C"):
        assert f"**Tier {tier}** (target $" in section
    for entry in context()["tiers"]:
        if entry["affordable"] is not None and entry["affordable"].users:
            assert f"buys about {entry['affordable'].users:,} concurrent users" in section


def test_waf_and_kms_are_described_as_the_plan_has_them() -> None:
    section = generated().split("## What the stacks have: security and encryption", 1)[1].split("\n## ", 1)[0]
    for entry in context()["tiers"]:
        tier = entry["spec"].tier
        line = next(line for line in section.splitlines() if line.startswith(f"- Tier {tier}:"))
        if entry["waf"]:
            assert "WAF web ACL" in line
            assert "no WAF" not in line
        else:
            assert "no WAF web ACL in the plan" in line, "nothing priced the plan does not contain"
        assert ("customer-managed KMS keys" in line) is bool(entry["kms_keys"])


def test_backup_storage_is_a_sourced_range_beside_the_total_never_in_it() -> None:
    for entry in context()["tiers"]:
        for ranged in entry["ranged"]:
            assert ranged.low.source_url.startswith("https://")
            assert ranged.high.source_url.startswith("https://")
            assert ranged.low.monthly < ranged.high.monthly
        assert entry["total"] == entry["estimate"].total.quantize(Decimal("0.01"))
    beside = generated().split("## Beside the total", 1)[1].split("\n## ", 1)[0]
    assert "Atlas backup storage" in beside
    assert "AWS Business Support" in beside


def test_every_priced_line_traces_to_a_price_with_a_source() -> None:
    for entry in context()["tiers"]:
        estimate = entry["estimate"]
        lines = [*estimate.lines, *(end for ranged in estimate.ranged for end in (ranged.low, ranged.high))]
        for line in lines:
            price = PRICES.prices.get(line.price_key)
            assert price is not None, f"{line.resource}: {line.price_key!r} is not in the price table"
            assert line.unit_price == price.usd, f"{line.resource}: {line.unit_price} is not {line.price_key}'s price"
            assert (line.source, line.source_url) == (price.source.id, price.source.url), line.price_key
            assert price.source.url.startswith("https://"), line.price_key
