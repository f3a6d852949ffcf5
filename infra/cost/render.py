"""An estimate (and optionally its diff) as a terminal table, Markdown, CSV or JSON. Rounding happens here and
only here: amounts to the cent (half up), quantities as exact as they are."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from infra.cost.diff import CostDiff
from infra.cost.model import Estimate, Line

CENT = Decimal("0.01")
FORMATS = ("table", "markdown", "csv", "json")
CSV_COLUMNS = (
    "resource",
    "type",
    "component",
    "quantity",
    "unit",
    "unitPriceUsd",
    "monthlyUsd",
    "kind",
    "category",
    "source",
    "sourceUrl",
    "sourceDate",
)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def usd(amount: Decimal) -> str:
    rounded = cents(amount)
    return f"-${-rounded:,}" if rounded < 0 else f"${rounded:,}"


def signed_usd(amount: Decimal) -> str:
    rounded = cents(amount)
    return f"+${rounded:,}" if rounded >= 0 else f"-${-rounded:,}"


def quantity(amount: Decimal) -> str:
    """Exact, without trailing zeros, with thousands separators: 2,920 or 0.3 or 56."""
    normalized = amount.normalize()
    if normalized == normalized.to_integral_value():
        return f"{int(normalized):,}"
    return f"{normalized:,f}"


def unit_price(amount: Decimal) -> str:
    """At least to the cent ($0.10), else as many digits as the price has ($0.0225)."""
    exact = amount.normalize()
    return f"${exact:f}" if -exact.as_tuple().exponent > 2 else f"${amount.quantize(CENT):f}"  # type: ignore[operator]


def _number(amount: Decimal) -> int | float:
    """JSON numbers: integral values as ints; others through their shortest exact decimal repr."""
    normalized = amount.normalize()
    if normalized == normalized.to_integral_value():
        return int(normalized)
    return float(normalized)


def line_record(line: Line) -> dict[str, Any]:
    return {
        "resource": line.resource,
        "type": line.type,
        "component": line.component,
        "quantity": _number(line.quantity),
        "unit": line.unit,
        "unitPriceUsd": _number(line.unit_price),
        "monthlyUsd": _number(cents(line.monthly)),
        "kind": line.kind.value,
        "category": line.category.value,
        "source": line.source,
        "sourceUrl": line.source_url,
        "sourceDate": line.source_date,
    }


def diff_record(change: CostDiff) -> dict[str, Any]:
    return {
        "against": change.against,
        "beforeUsd": _number(cents(change.before)),
        "afterUsd": _number(cents(change.after)),
        "changeUsd": _number(cents(change.change)),
        "resources": [
            {
                "resource": c.resource,
                "type": c.type,
                "change": c.marker,
                "beforeUsd": _number(cents(c.before)),
                "afterUsd": _number(cents(c.after)),
                "changeUsd": _number(cents(c.change)),
            }
            for c in change.changes
        ],
    }


def estimate_record(estimate: Estimate, change: CostDiff | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "stack": estimate.stack,
        "tier": estimate.tier,
        "currency": estimate.currency,
        "monthlyTotalUsd": _number(cents(estimate.total)),
        "baselineUsd": _number(cents(estimate.baseline)),
        "usageUsd": _number(cents(estimate.usage)),
        "monthlyBudgetUsd": None if estimate.budget is None else _number(estimate.budget),
        "overBudget": estimate.over_budget,
        "priceTableVersion": estimate.price_table_version,
        "usageFiles": list(estimate.usage_files),
        "lines": [line_record(line) for line in estimate.lines],
        "unpriced": [{"resource": u.resource, "type": u.type, "reason": u.reason} for u in estimate.unpriced],
        "free": [{"resource": f.resource, "type": f.type, "reason": f.reason} for f in estimate.free],
        "warnings": list(estimate.warnings),
    }
    if change is not None:
        document["diff"] = diff_record(change)
    return document


def to_json(estimate: Estimate, change: CostDiff | None = None) -> str:
    return json.dumps(estimate_record(estimate, change), indent=2, ensure_ascii=False) + "\n"


def to_csv(estimate: Estimate) -> str:
    """One row per cost line (no total row: a spreadsheet sums the column itself)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for line in estimate.lines:
        # Text, not floats: a spreadsheet gets exactly the Decimal (and cents as cents).
        record = line_record(line) | {
            "quantity": f"{line.quantity.normalize():f}",
            "unitPriceUsd": f"{line.unit_price.normalize():f}",
            "monthlyUsd": f"{cents(line.monthly):f}",
        }
        writer.writerow({key: record[key] for key in CSV_COLUMNS})
    return buffer.getvalue()


def diff_lines(change: CostDiff) -> list[str]:
    """`~ name +$X ($A -> $B)` per changed resource, then the total."""
    width = max((len(c.resource) for c in change.changes), default=0)
    rows = [
        f"{c.marker} {c.resource:<{width}}  {signed_usd(c.change)} ({usd(c.before)} -> {usd(c.after)})"
        for c in change.changes
    ]
    rows.append(f"Monthly total: {signed_usd(change.change)} ({usd(change.before)} -> {usd(change.after)})")
    return rows


def _summary(estimate: Estimate) -> list[str]:
    rows = [
        f"Monthly total: {usd(estimate.total)} (baseline {usd(estimate.baseline)}, usage-based {usd(estimate.usage)})"
    ]
    if estimate.budget is not None:
        state = "over" if estimate.over_budget else "within"
        rows.append(f"Budget: {usd(estimate.budget)} a month (monthlyBudgetUsd): {state} budget")
    rows.append(f"{len(estimate.free)} resources cost nothing themselves; {len(estimate.unpriced)} items unpriced")
    return rows


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(estimate: Estimate, change: CostDiff | None = None) -> str:
    out = [
        f"### Cost estimate: stack `{estimate.stack}` (tier {estimate.tier}), {estimate.currency} a month",
        "",
        "| Resource | Component | Quantity | Unit price | Monthly | Kind | Source |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    previous = None
    for line in estimate.lines:
        name = "" if line.resource == previous else f"`{line.resource}`"
        previous = line.resource
        out.append(
            f"| {name} | {_escape(line.component)} | {quantity(line.quantity)} {line.unit} | "
            f"{unit_price(line.unit_price)} | {usd(line.monthly)} | {line.kind.value} | {line.source} |"
        )
    out += ["", *(f"**{row}**" if i == 0 else row for i, row in enumerate(_summary(estimate)))]
    out += _markdown_list("Not priced (not in the total)", (f"`{u.resource}`: {u.reason}" for u in estimate.unpriced))
    out += _markdown_list("Warnings", estimate.warnings)
    if change is not None:
        out += ["", f"#### Change against {change.against}", "", "```diff", *diff_lines(change), "```"]
    return "\n".join(out) + "\n"


def _markdown_list(title: str, items: Iterable[str]) -> list[str]:
    listed = [f"- {_escape(item)}" for item in items]
    return ["", f"{title}:", "", *listed] if listed else []


def print_table(estimate: Estimate, console: Console, change: CostDiff | None = None) -> None:
    table = Table(
        title=f"Cost estimate: stack {estimate.stack} (tier {estimate.tier}), {estimate.currency} a month",
        title_justify="left",
    )
    for column, justify in (
        ("Resource", "left"),
        ("Component", "left"),
        ("Quantity", "right"),
        ("Unit", "left"),
        ("Unit price", "right"),
        ("Monthly", "right"),
        ("Kind", "left"),
        ("Source", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    previous = None
    for line in estimate.lines:
        table.add_row(
            "" if line.resource == previous else line.resource,
            line.component,
            quantity(line.quantity),
            line.unit,
            unit_price(line.unit_price),
            usd(line.monthly),
            line.kind.value,
            line.source,
        )
        previous = line.resource
    # Piped output has no terminal width to fit: give the table room instead of wrapping every cell.
    target = console if console.is_terminal else Console(file=console.file, width=200, highlight=False)
    target.print(table)
    for row in _summary(estimate):
        console.print(row, markup=False)
    for item in estimate.unpriced:
        console.print(f"not priced: {item.resource} ({item.type}): {item.reason}", markup=False)
    for warning in estimate.warnings:
        console.print(f"warning: {warning}", markup=False)
    if change is not None:
        console.print(f"Change against {change.against}:", markup=False)
        for row in diff_lines(change):
            console.print(row, markup=False)
