"""An estimate (and optionally its diff) as a terminal table, Markdown, CSV or JSON. Rounding happens here and
only here. Each line is rounded to the cent so that the displayed lines add up exactly to the displayed total
(the exact sum rounded once, half up): the cents the per-line rounding loses or gains go to the lines with the
largest remainders. Quantities are shown exact up to four decimals."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from infra.cost.diff import CostDiff
from infra.cost.model import BudgetStatus, Estimate, Kind, Line

CENT = Decimal("0.01")
QUANTITY_PLACES = Decimal("0.0001")
FORMATS = ("table", "markdown", "csv", "json")
CSV_COLUMNS: tuple[str, ...] = (
    "stack",
    "tier",
    "resource",
    "type",
    "component",
    "quantity",
    "unit",
    "unitPriceUsd",
    "monthlyUsd",
    "yearlyUsd",
    "kind",
    "category",
    "source",
    "sourceUrl",
    "sourceDate",
)
MONTHS_PER_YEAR = 12
ROUNDING_NOTE = "lines are rounded to the cent so that they add up to the total (the exact sum, rounded once)"


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def reconciled(amounts: Sequence[Decimal], target: Decimal | None = None) -> list[Decimal]:
    """Each amount to the cent such that they sum to `target` (default: the cent-rounded exact sum; it must be
    within a cent per amount of it), the missing cents going to the largest remainders first, then to the
    earlier amounts: the displayed lines then add up to the displayed total."""
    floors = [amount.quantize(CENT, rounding=ROUND_FLOOR) for amount in amounts]
    goal = cents(sum(amounts, Decimal(0))) if target is None else target
    short = int((goal - sum(floors, Decimal(0))) / CENT)
    if not 0 <= short <= len(amounts):
        raise ValueError(f"cannot round {len(amounts)} amounts summing to {sum(amounts, Decimal(0))} to {goal}")
    by_remainder = sorted(range(len(amounts)), key=lambda i: (-(amounts[i] - floors[i]), i))
    for index in by_remainder[:short]:
        floors[index] += CENT
    return floors


def line_cents(estimate: Estimate) -> list[Decimal]:
    """The displayed monthly amount of each line of `estimate`, in line order."""
    return reconciled([line.monthly for line in estimate.lines])


def displayed_split(estimate: Estimate) -> tuple[Decimal, Decimal, Decimal]:
    """(total, baseline, usage-based) as displayed: sums of the displayed lines."""
    shown = line_cents(estimate)
    baseline = sum((c for c, line in zip(shown, estimate.lines, strict=True) if line.kind is Kind.BASELINE), CENT * 0)
    total = sum(shown, CENT * 0)
    return total, baseline, total - baseline


def usd(amount: Decimal) -> str:
    rounded = cents(amount)
    return f"-${-rounded:,}" if rounded < 0 else f"${rounded:,}"


def signed_usd(amount: Decimal) -> str:
    rounded = cents(amount)
    return f"+${rounded:,}" if rounded >= 0 else f"-${-rounded:,}"


def _shown_quantity(amount: Decimal) -> Decimal:
    normalized = amount.normalize()
    if -normalized.as_tuple().exponent > 4:  # type: ignore[operator]
        normalized = amount.quantize(QUANTITY_PLACES, rounding=ROUND_HALF_UP).normalize()
    return normalized


def quantity(amount: Decimal) -> str:
    """Without trailing zeros, at most four decimals, with thousands separators: 2,920 or 0.3 or 2.9589."""
    shown = _shown_quantity(amount)
    if shown == shown.to_integral_value():
        return f"{int(shown):,}"
    return f"{shown:,f}"


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


def line_record(line: Line, shown: Decimal) -> dict[str, Any]:
    return {
        "resource": line.resource,
        "type": line.type,
        "component": line.component,
        "quantity": _number(_shown_quantity(line.quantity)),
        "unit": line.unit,
        "unitPriceUsd": _number(line.unit_price),
        "monthlyUsd": _number(shown),
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
        "changeUsd": _number(cents(change.change)) if change.known else None,
        "pricedChangeUsd": _number(cents(change.change)),
        "resources": [
            {
                "resource": c.resource,
                "type": c.type,
                "change": c.marker,
                "beforeUsd": _number(cents(c.before)),
                "afterUsd": _number(cents(c.after)),
                "changeUsd": _number(cents(c.change)) if c.known else None,
                "unpriced": list(c.unpriced),
            }
            for c in change.changes
        ],
    }


def estimate_record(estimate: Estimate, change: CostDiff | None = None) -> dict[str, Any]:
    total, baseline, usage = displayed_split(estimate)
    status = estimate.budget_status
    document: dict[str, Any] = {
        "stack": estimate.stack,
        "tier": estimate.tier,
        "currency": estimate.currency,
        "monthlyTotalUsd": _number(total),
        "baselineUsd": _number(baseline),
        "usageUsd": _number(usage),
        "complete": not estimate.unpriced_baseline,
        "monthlyBudgetUsd": None if estimate.budget is None else _number(estimate.budget),
        # null when it cannot be told: below the budget, but a baseline item is unpriced.
        "overBudget": None if status is BudgetStatus.UNKNOWN else estimate.over_budget,
        "budgetStatus": status.value,
        "priceTableVersion": estimate.price_table_version,
        "usageFiles": list(estimate.usage_files),
        "lines": [line_record(line, shown) for line, shown in zip(estimate.lines, line_cents(estimate), strict=True)],
        "unpriced": [
            {
                "resource": u.resource,
                "type": u.type,
                "kind": u.kind.value,
                "category": u.category.value if u.category else None,
                "reason": u.reason,
            }
            for u in estimate.unpriced
        ],
        "free": [{"resource": f.resource, "type": f.type, "reason": f.reason} for f in estimate.free],
        # Beside the total, never in it: costs known only between two sourced prices.
        "ranges": [
            {
                "resource": item.resource,
                "component": item.low.component,
                "quantity": _number(_shown_quantity(item.low.quantity)),
                "unit": item.low.unit,
                "lowUsd": _number(cents(item.low.monthly)),
                "highUsd": _number(cents(item.high.monthly)),
                "lowSource": item.low.source,
                "highSource": item.high.source,
                "why": item.why,
            }
            for item in estimate.ranged
        ],
        "warnings": list(estimate.warnings),
    }
    if change is not None:
        document["diff"] = diff_record(change)
    return document


def to_json(estimate: Estimate, change: CostDiff | None = None) -> str:
    return json.dumps(estimate_record(estimate, change), indent=2, ensure_ascii=False) + "\n"


def _csv_rows(estimate: Estimate) -> list[dict[str, str]]:
    """One estimate's rows: its lines, its ranges (no amount: the two ends in the component), its unpriced items,
    then its total (kind `total`), every amount a plain number."""
    empty = dict.fromkeys(CSV_COLUMNS, "")
    where = {"stack": estimate.stack, "tier": estimate.tier}
    rows = []
    for line, shown in zip(estimate.lines, line_cents(estimate), strict=True):
        # Text, not floats: a spreadsheet gets exactly the Decimal (and cents as cents).
        record = line_record(line, shown) | {
            "quantity": f"{_shown_quantity(line.quantity):f}",
            "unitPriceUsd": f"{line.unit_price.normalize():f}",
            "monthlyUsd": f"{shown:f}",
            "yearlyUsd": f"{shown * MONTHS_PER_YEAR:f}",
        }
        rows.append(empty | where | {key: record[key] for key in CSV_COLUMNS if key in record})
    for item in estimate.ranged:
        rows.append(
            empty
            | where
            | {
                "resource": item.resource,
                "type": item.low.type,
                "component": f"{item.low.component}: {usd(item.low.monthly)} to {usd(item.high.monthly)} a month, "
                f"not in the total ({item.why})",
                "quantity": f"{_shown_quantity(item.low.quantity):f}",
                "unit": item.low.unit,
                "kind": "range",
                "category": item.low.category.value,
                "source": f"{item.low.source} to {item.high.source}",
            }
        )
    for item in estimate.unpriced:
        rows.append(
            empty
            | where
            | {
                "resource": item.resource,
                "type": item.type,
                "component": f"{item.kind.value} cost not priced: {item.reason}",
                "kind": "unpriced",
                "category": item.category.value if item.category else "",
            }
        )
    total = displayed_split(estimate)[0]
    rows.append(
        empty
        | where
        | {
            "resource": "TOTAL",
            "monthlyUsd": f"{total:f}",
            "yearlyUsd": f"{total * MONTHS_PER_YEAR:f}",
            "kind": "total" if not estimate.unpriced_baseline else "total-lower-bound",
        }
    )
    return rows


def to_csv(estimates: Estimate | Sequence[Estimate]) -> str:
    """One row per cost line (with its stack and tier), per range and per unpriced item (no amount), then each
    estimate's total row (kind `total`; `total-lower-bound` when a baseline item is unpriced) and, for several
    estimates, a last row of the totals (stack `ALL`): every amount a number. Sum the `baseline` and `usage` rows,
    not the whole column, to check a total."""
    many = [estimates] if isinstance(estimates, Estimate) else list(estimates)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for estimate in many:
        writer.writerows(_csv_rows(estimate))
    if len(many) > 1:
        total = sum((displayed_split(estimate)[0] for estimate in many), Decimal(0))
        writer.writerow(
            dict.fromkeys(CSV_COLUMNS, "")
            | {
                "stack": "ALL",
                "resource": "TOTAL",
                "monthlyUsd": f"{total:f}",
                "yearlyUsd": f"{total * MONTHS_PER_YEAR:f}",
                "kind": "total",
            }
        )
    return buffer.getvalue()


def diff_lines(change: CostDiff) -> list[str]:
    """`~ name +$X ($A -> $B)` per changed resource (`? name unknown (...)` when a part is unpriced), then the
    total."""
    width = max((len(c.resource) for c in change.changes), default=0)
    rows = []
    for c in change.changes:
        if c.known:
            rows.append(f"{c.marker} {c.resource:<{width}}  {signed_usd(c.change)} ({usd(c.before)} -> {usd(c.after)})")
        else:
            rows.append(
                f"? {c.resource:<{width}}  unknown (priced parts {usd(c.before)} -> {usd(c.after)}; unpriced: "
                f"{'; '.join(c.unpriced)})"
            )
    if change.known:
        rows.append(f"Monthly total: {signed_usd(change.change)} ({usd(change.before)} -> {usd(change.after)})")
    else:
        rows.append(
            f"Monthly total: unknown: priced lines {usd(change.before)} -> {usd(change.after)} "
            f"({signed_usd(change.change)}), plus the unpriced parts of {len(change.unknown)} resource(s) marked ?"
        )
    return rows


def _summary(estimate: Estimate) -> list[str]:
    total, baseline, usage = displayed_split(estimate)
    lower_bound = " at least" if estimate.unpriced_baseline else ""
    rows = [f"Monthly total:{lower_bound} {usd(total)} (baseline {usd(baseline)}, usage-based {usd(usage)})"]
    status = estimate.budget_status
    if estimate.budget is not None:
        budget = f"Budget: {usd(estimate.budget)} a month (monthlyBudgetUsd): "
        if status is BudgetStatus.UNKNOWN:
            names = ", ".join(dict.fromkeys(u.resource for u in estimate.unpriced_baseline))
            rows.append(budget + f"cannot be checked: baseline items are unpriced ({names})")
        else:
            rows.append(budget + ("over budget" if status is BudgetStatus.OVER else "within budget"))
    for item in estimate.ranged:
        rows.append(
            f"Beside the total (a range whose ends are sourced): {item.resource}: {item.low.component}, "
            f"{usd(item.low.monthly)} to {usd(item.high.monthly)} a month ({item.why})"
        )
    rows.append(f"{len(estimate.free)} resources cost nothing themselves; {len(estimate.unpriced)} items unpriced")
    rows.append(f"Rounding: {ROUNDING_NOTE}.")
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
    for line, shown in zip(estimate.lines, line_cents(estimate), strict=True):
        name = "" if line.resource == previous else f"`{line.resource}`"
        previous = line.resource
        out.append(
            f"| {name} | {_escape(line.component)} | {quantity(line.quantity)} {line.unit} | "
            f"{unit_price(line.unit_price)} | {usd(shown)} | {line.kind.value} | {line.source} |"
        )
    out += ["", *(f"**{row}**" if i == 0 else row for i, row in enumerate(_summary(estimate)))]
    out += _markdown_list(
        "Not priced (not in the total)", (f"`{u.resource}` ({u.kind.value}): {u.reason}" for u in estimate.unpriced)
    )
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
    for line, shown in zip(estimate.lines, line_cents(estimate), strict=True):
        table.add_row(
            "" if line.resource == previous else line.resource,
            line.component,
            quantity(line.quantity),
            line.unit,
            unit_price(line.unit_price),
            usd(shown),
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
        console.print(f"not priced ({item.kind.value}): {item.resource} ({item.type}): {item.reason}", markup=False)
    for warning in estimate.warnings:
        console.print(f"warning: {warning}", markup=False)
    if change is not None:
        console.print(f"Change against {change.against}:", markup=False)
        for row in diff_lines(change):
            console.print(row, markup=False)
