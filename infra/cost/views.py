"""The finance views of `cost`: several stacks with their totals per account and per year (`--stacks`), and the
three tiers side by side for one stack's settings (`--compare-tiers`), as a table, Markdown, CSV or JSON."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from infra.capacity.traffic import monthly_requests, traffic_model
from infra.config.errors import InvalidStackConfig
from infra.cost.finance import MILLION, MONTHS_PER_YEAR, THOUSAND, StackCost
from infra.cost.model import Category, Estimate
from infra.cost.price_table import PriceTable
from infra.cost.render import displayed_split, line_cents, to_csv, usd
from infra.cost.stacks import estimate_of
from infra.plan.document import build_plan

TIERS = ("A", "B", "C")


def _number(amount: Decimal) -> float:
    return float(amount.quantize(Decimal("0.01")))


# --stacks
def stacks_record(rows: Sequence[StackCost]) -> dict[str, Any]:
    accounts: dict[str, list[StackCost]] = {}
    for row in rows:
        accounts.setdefault(row.account, []).append(row)
    return {
        "stacks": [
            {
                "stack": row.stack,
                "tier": row.alone.tier,
                "account": row.account,
                "monthlyAloneUsd": _number(displayed_split(row.alone)[0]),
                "monthlyInAccountUsd": _number(displayed_split(row.in_account)[0]),
                "yearlyUsd": _number(displayed_split(row.in_account)[0] * MONTHS_PER_YEAR),
                "complete": not row.in_account.unpriced_baseline,
            }
            for row in rows
        ],
        "accounts": [
            {
                "account": account,
                "stacks": [row.stack for row in members],
                "monthlyUsd": _number(sum((displayed_split(r.in_account)[0] for r in members), Decimal(0))),
                "yearlyUsd": _number(
                    sum((displayed_split(r.in_account)[0] for r in members), Decimal(0)) * MONTHS_PER_YEAR
                ),
            }
            for account, members in accounts.items()
        ],
        "monthlyTotalUsd": _number(sum((displayed_split(r.in_account)[0] for r in rows), Decimal(0))),
        "yearlyTotalUsd": _number(sum((displayed_split(r.in_account)[0] for r in rows), Decimal(0)) * MONTHS_PER_YEAR),
        "note": "monthlyInAccount prices the stacks in turn within their account: the free allowances (CloudFront's "
        "1 TB and 10 M requests, 100 GB of egress) and the volume tiers are per account, so a later stack gets what "
        "the earlier ones left; monthlyAlone is what `cost --stack` prints for the stack by itself",
    }


def print_stacks(rows: Sequence[StackCost], console: Console, markdown: bool = False) -> None:
    record = stacks_record(rows)
    header = ("Account", "Stack", "Tier", "Monthly, alone", "Monthly, in the account", "Yearly")
    body = [
        (
            s["account"],
            s["stack"],
            s["tier"],
            usd(Decimal(str(s["monthlyAloneUsd"]))),
            usd(Decimal(str(s["monthlyInAccountUsd"]))),
            usd(Decimal(str(s["yearlyUsd"]))),
        )
        for s in record["stacks"]
    ]
    for account in record["accounts"]:
        monthly, yearly = Decimal(str(account["monthlyUsd"])), Decimal(str(account["yearlyUsd"]))
        body.append((f"{account['account']}: total", ", ".join(account["stacks"]), "", "", usd(monthly), usd(yearly)))
    monthly, yearly = Decimal(str(record["monthlyTotalUsd"])), Decimal(str(record["yearlyTotalUsd"]))
    body.append(("All accounts", "", "", "", usd(monthly), usd(yearly)))
    _print(console, "Cost of the stacks, USD (on demand)", header, body, markdown)
    console.print(record["note"], markup=False)


def stacks_csv(rows: Sequence[StackCost]) -> str:
    """Every line of every stack (priced within its account) with its stack and tier, and the total rows."""
    return to_csv([row.in_account for row in rows])


# --compare-tiers
@dataclass(frozen=True)
class TierColumn:
    tier: str
    estimate: Estimate | None
    refused: str = ""

    @property
    def users(self) -> Decimal:
        return traffic_model(self.tier).concurrent_users

    def per_thousand_users(self) -> Decimal | None:
        return None if self.estimate is None else self.estimate.total / (self.users / THOUSAND)

    def per_million_requests(self) -> Decimal | None:
        if self.estimate is None:
            return None
        return self.estimate.total / (monthly_requests(traffic_model(self.tier)) / MILLION)


def compare_tiers(
    stack: str, overrides: Sequence[str], root: Path, prices: PriceTable | None = None, today: dt.date | None = None
) -> list[TierColumn]:
    """The stack's settings (its stack file and `overrides`) planned and priced as each tier, each at its own
    traffic model; a tier the stack's rules refuse (tier C's single NAT in production) says why."""
    columns = []
    for tier in TIERS:
        try:
            plan = build_plan(stack, (*overrides, f"tier={tier}"), root)
        except InvalidStackConfig as error:
            columns.append(TierColumn(tier, None, "; ".join(str(problem) for problem in error.problems)))
            continue
        columns.append(TierColumn(tier, estimate_of(plan, root, None, prices, today)))
    return columns


def _categories(estimate: Estimate) -> dict[Category, Decimal]:
    totals: dict[Category, Decimal] = {}
    for line, amount in zip(estimate.lines, line_cents(estimate), strict=True):
        totals[line.category] = totals.get(line.category, Decimal(0)) + amount
    return totals


def compare_record(stack: str, columns: Sequence[TierColumn]) -> dict[str, Any]:
    tiers = []
    for column in columns:
        if column.estimate is None:
            tiers.append({"tier": column.tier, "refused": column.refused})
            continue
        total, baseline, usage = displayed_split(column.estimate)
        tiers.append(
            {
                "tier": column.tier,
                "concurrentUsers": int(column.users),
                "monthlyTotalUsd": _number(total),
                "yearlyTotalUsd": _number(total * MONTHS_PER_YEAR),
                "baselineUsd": _number(baseline),
                "usageUsd": _number(usage),
                "per1000UsersUsd": _number(column.per_thousand_users() or Decimal(0)),
                "perMillionRequestsUsd": _number(column.per_million_requests() or Decimal(0)),
                "byCategory": {c.value: _number(a) for c, a in _categories(column.estimate).items()},
            }
        )
    return {"stack": stack, "tiers": tiers}


def print_compare(stack: str, columns: Sequence[TierColumn], console: Console, markdown: bool = False) -> None:
    header = ("", *(f"Tier {column.tier}" for column in columns))
    priced = [column for column in columns if column.estimate is not None]
    categories = [c for c in Category if any(c in _categories(col.estimate) for col in priced if col.estimate)]

    def cell(column: TierColumn, value: Any) -> str:
        return "refused" if column.estimate is None else value

    body: list[tuple[str, ...]] = [
        ("Concurrent users (its traffic model)", *(f"{column.users:,.0f}" for column in columns))
    ]
    for category in categories:
        body.append(
            (
                category.value,
                *(
                    cell(c, usd(_categories(c.estimate).get(category, Decimal(0))) if c.estimate else "")
                    for c in columns
                ),
            )
        )
    body.append(("Monthly", *(cell(c, usd(displayed_split(c.estimate)[0]) if c.estimate else "") for c in columns)))
    body.append(
        (
            "Yearly",
            *(cell(c, usd(displayed_split(c.estimate)[0] * MONTHS_PER_YEAR) if c.estimate else "") for c in columns),
        )
    )
    body.append(("Per 1,000 users", *(cell(c, usd(c.per_thousand_users() or Decimal(0))) for c in columns)))
    body.append(("Per million requests", *(cell(c, usd(c.per_million_requests() or Decimal(0))) for c in columns)))
    _print(console, f"The three tiers for stack {stack}'s settings, USD a month (on demand)", header, body, markdown)
    for column in columns:
        if column.estimate is None:
            console.print(f"tier {column.tier} refused by the config rules: {column.refused}", markup=False)


def compare_csv(columns: Sequence[TierColumn]) -> str:
    return to_csv([column.estimate for column in columns if column.estimate is not None])


def _print(console: Console, title: str, header: Sequence[str], body: Sequence[Sequence[str]], markdown: bool) -> None:
    if markdown:
        console.print(f"### {title}\n", markup=False)
        console.print("| " + " | ".join(header) + " |", markup=False)
        console.print("|" + "---|" * len(header), markup=False)
        for row in body:
            console.print("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |", markup=False)
        return
    table = Table(title=title, title_justify="left")
    for index, name in enumerate(header):
        table.add_column(name, justify="left" if index == 0 else "right")
    for row in body:
        table.add_row(*row)
    target = console if console.is_terminal else Console(file=console.file, width=200, highlight=False)
    target.print(table)


def to_json(record: dict[str, Any]) -> str:
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"
