"""The pull request's cost comment: for every committed stack, what the change does to the monthly bill,
computed offline from the plans of the base commit and of the head (`ci plans` writes both folders).

Both sides are priced with the head's price table and usage files (one yardstick, as `cost --against` does),
so the comment shows what the change to the program does, not a price correction. The comment gives the
monthly change per stack, then per resource (`+` added, `-` removed, `~` changed, `?` unknown: an unpriced
baseline part), the items the estimate cannot price, and a budget verdict per stack and overall.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from infra.ci.stacks import PlanResult, read_index
from infra.cost.diff import CostDiff, ResourceChange, diff
from infra.cost.model import BudgetStatus, Estimate, Unpriced
from infra.cost.render import signed_usd, usd
from infra.cost.stacks import estimate_of, read_plan_file
from infra.plan.project_files import PlanInputError

MAX_COMMENT_CHARS = 60_000
"""Where the comment is cut: GitHub refuses a body over 65,536 characters, and the sticky comment action adds
its hidden header."""
MAX_ROWS_PER_STACK = 60
"""Resource rows shown per stack; the rest are counted (a new stack lists every resource)."""


class Verdict(StrEnum):
    """The budget verdict of one stack after the change (`cost`'s exit codes 3 and 4 follow the same rule)."""

    WITHIN = "within"
    OVER = "over"
    UNCHECKABLE = "uncheckable"
    NO_BUDGET = "no budget"
    NOT_PLANNED = "not planned"
    REMOVED = "removed"


@dataclass(frozen=True)
class StackChange:
    stack: str
    before: Estimate | None
    """The base's estimate; None when the base has no such stack or could not be planned (`base_error`)."""
    after: Estimate | None
    """The head's estimate; None when the head has no such stack or could not be planned (`head_error`)."""
    base_error: str = ""
    head_error: str = ""

    @property
    def added(self) -> bool:
        return self.before is None and not self.base_error

    @property
    def removed(self) -> bool:
        return self.after is None and not self.head_error

    @property
    def diff(self) -> CostDiff | None:
        """Per resource; a stack that is new (or gone) compares with an empty one. None when a side failed."""
        if self.base_error or self.head_error:
            return None
        before = self.before or _empty_like(self.after)
        after = self.after or _empty_like(self.before)
        return diff(before, after, "the base")

    @property
    def verdict(self) -> Verdict:
        if self.head_error:
            return Verdict.NOT_PLANNED
        if self.after is None:
            return Verdict.REMOVED
        return {
            BudgetStatus.WITHIN: Verdict.WITHIN,
            BudgetStatus.OVER: Verdict.OVER,
            BudgetStatus.UNKNOWN: Verdict.UNCHECKABLE,
            BudgetStatus.NONE: Verdict.NO_BUDGET,
        }[self.after.budget_status]

    @property
    def new_unpriced(self) -> tuple[Unpriced, ...]:
        """The head's unpriced items that the base did not have (by resource and reason)."""
        if self.after is None:
            return ()
        seen = {(u.resource, u.reason) for u in (self.before.unpriced if self.before else ())}
        return tuple(u for u in self.after.unpriced if (u.resource, u.reason) not in seen)


def _empty_like(estimate: Estimate | None) -> Estimate:
    assert estimate is not None, "a stack missing on both sides is not in the comment"
    return Estimate(
        stack=estimate.stack,
        tier=estimate.tier,
        currency=estimate.currency,
        lines=(),
        unpriced=(),
        free=(),
        warnings=(),
        budget=None,
        price_table_version=estimate.price_table_version,
    )


@dataclass(frozen=True)
class CostComment:
    stacks: tuple[StackChange, ...]
    base_label: str
    head_label: str

    @property
    def failed(self) -> tuple[StackChange, ...]:
        return tuple(s for s in self.stacks if s.verdict is Verdict.NOT_PLANNED)

    @property
    def over_budget(self) -> tuple[StackChange, ...]:
        return tuple(s for s in self.stacks if s.verdict is Verdict.OVER)

    @property
    def uncheckable(self) -> tuple[StackChange, ...]:
        return tuple(s for s in self.stacks if s.verdict is Verdict.UNCHECKABLE)


def _estimate_or_error(result: PlanResult | None, plans: Path, root: Path) -> tuple[Estimate | None, str]:
    if result is None:
        return None, ""
    if result.plan_file is None:
        return None, result.error or "the plan failed"
    try:
        return estimate_of(read_plan_file(plans / result.plan_file), root), ""
    except PlanInputError as error:
        return None, str(error)


def compare(base_plans: Path, head_plans: Path, project_root: Path, base_label: str, head_label: str) -> CostComment:
    """Every committed stack of either side, priced with `project_root`'s price table and usage files."""
    base, head = read_index(base_plans), read_index(head_plans)
    stacks = []
    for stack in sorted(set(base) | set(head)):
        before, base_error = _estimate_or_error(base.get(stack), base_plans, project_root)
        after, head_error = _estimate_or_error(head.get(stack), head_plans, project_root)
        stacks.append(StackChange(stack, before, after, base_error, head_error))
    return CostComment(tuple(stacks), base_label, head_label)


# Rendering ---------------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Table cell text: a pipe would end the cell, a newline the row."""
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    quoted = _cell(text).replace("`", "'")
    return f"`{quoted}`"


def _total(estimate: Estimate | None) -> str:
    if estimate is None:
        return "—"
    return ("≥ " if estimate.unpriced_baseline else "") + usd(estimate.total)


def _stack_change(change: StackChange) -> str:
    if change.base_error:
        return "unknown: the base could not be planned"
    if change.head_error:
        return "unknown: this branch could not be planned"
    delta = change.diff
    assert delta is not None
    if not delta.known:
        return f"unknown: {signed_usd(delta.change)} priced, plus {len(delta.unknown)} unpriced (?)"
    return signed_usd(delta.change)


def _budget_cell(change: StackChange) -> str:
    after = change.after
    verdict = change.verdict
    if verdict is Verdict.NOT_PLANNED:
        return "❓ not planned"
    if verdict is Verdict.REMOVED:
        return "stack removed"
    assert after is not None
    if verdict is Verdict.NO_BUDGET:
        return "no budget set"
    assert after.budget is not None
    if verdict is Verdict.OVER:
        already = change.before is not None and change.before.budget_status is BudgetStatus.OVER
        return f"❌ over {usd(after.budget)}" + (" (already before)" if already else "")
    if verdict is Verdict.UNCHECKABLE:
        return f"⚠️ {usd(after.budget)}: cannot be checked"
    return f"✅ within {usd(after.budget)}"


def _headline(comment: CostComment) -> str:
    diffs = [s.diff for s in comment.stacks]
    if any(d is None for d in diffs):
        return "## Cost change: unknown (a stack could not be planned, see below)"
    total = sum((d.change for d in diffs if d is not None), Decimal(0))
    if all(d is not None and d.known for d in diffs):
        return f"## Cost change: {signed_usd(total)} a month"
    return f"## Cost change: {signed_usd(total)} a month in the priced lines, plus unpriced parts (?)"


def _verdict_line(comment: CostComment) -> str:
    if comment.over_budget:
        names = "; ".join(
            f"{_code(s.stack)} at {usd(s.after.total)} a month, budget {usd(s.after.budget)}"
            for s in comment.over_budget
            if s.after is not None and s.after.budget is not None
        )
        return f"**Budget verdict: ❌ over budget**: {names}. Lower the cost, or raise `monthlyBudgetUsd`."
    if comment.failed:
        names = ", ".join(_code(s.stack) for s in comment.failed)
        return f"**Budget verdict: ❓ unknown**: {names} could not be planned on this branch."
    if comment.uncheckable:
        names = ", ".join(_code(s.stack) for s in comment.uncheckable)
        return f"**Budget verdict: ⚠️ cannot be checked** for {names}: baseline items are unpriced (listed below)."
    return "**Budget verdict: ✅ every stack with a budget is within it.**"


def _summary_table(comment: CostComment) -> list[str]:
    rows = ["| Stack | Tier | Before | After | Change | Budget (`monthlyBudgetUsd`) |", "|---|---|---:|---:|---:|---|"]
    for change in comment.stacks:
        estimate = change.after or change.before
        tier = estimate.tier if estimate is not None else "?"
        note = " (new)" if change.added else " (removed)" if change.removed else ""
        rows.append(
            f"| {_code(change.stack)}{note} | {tier} | {_total(change.before)} | {_total(change.after)} | "
            f"{_stack_change(change)} | {_budget_cell(change)} |"
        )
    return rows


def _resource_row(change: ResourceChange) -> str:
    amount = signed_usd(change.change) if change.known else f"unknown (unpriced: {'; '.join(change.unpriced)})"
    return (
        f"| {change.marker} | {_code(change.resource)} | {_code(change.type)} | {usd(change.before)} | "
        f"{usd(change.after)} | {_cell(amount)} |"
    )


def _stack_section(change: StackChange, max_rows: int) -> list[str]:
    out = [""]
    if change.base_error or change.head_error:
        which = "the base" if change.base_error else "this branch"
        out += [f"### {_code(change.stack)}: not compared", "", f"{which} could not be planned:", ""]
        out += ["```", (change.base_error or change.head_error).replace("```", "'''"), "```"]
        return out
    delta = change.diff
    assert delta is not None
    out.append(f"### {_code(change.stack)}: {_stack_change(change)}")
    if not delta.changes:
        out += ["", "No resource's monthly cost changes."]
    else:
        out += ["", "| | Resource | Type | Before | After | Change |", "|---|---|---|---:|---:|---:|"]
        out += [_resource_row(c) for c in delta.changes[:max_rows]]
        if len(delta.changes) > max_rows:
            rest = delta.changes[max_rows:]
            out.append(f"| | … {len(rest)} more | | | | {signed_usd(sum((c.change for c in rest), Decimal(0)))} |")
    unpriced = change.after.unpriced if change.after is not None else ()
    if unpriced:
        new = set(change.new_unpriced)
        out += ["", "Not priced (never counted as $0, not in the totals):", ""]
        for item in unpriced:
            marker = " **new**" if item in new else ""
            out.append(
                f"- {_code(item.resource)} ({_code(item.type)}, {item.kind.value}){marker}: {_cell(item.reason)}"
            )
    return out


def _footer(comment: CostComment) -> list[str]:
    estimate = next((s.after or s.before for s in comment.stacks if s.after or s.before), None)
    version = estimate.price_table_version if estimate is not None else "?"
    return [
        "",
        "---",
        f"Offline estimate: this branch ({_code(comment.head_label)}) against its base ({_code(comment.base_label)}),"
        f" both priced with this branch's price table (version {version}) and usage files. `+` added, `-` removed,"
        " `~` changed, `?` unknown (an unpriced baseline part). Reproduce one stack with "
        "`python -m infra.cli cost --stack STACK --against BASE_PLAN.json`.",
    ]


def render_markdown(
    comment: CostComment, *, max_rows: int = MAX_ROWS_PER_STACK, max_chars: int = MAX_COMMENT_CHARS
) -> str:
    lines = [_headline(comment), "", *_summary_table(comment), "", _verdict_line(comment)]
    for change in comment.stacks:
        lines += _stack_section(change, max_rows)
    lines += _footer(comment)
    text = "\n".join(lines) + "\n"
    if len(text) > max_chars:
        cut = text.rfind("\n", 0, max_chars - 200)
        text = text[:cut] + "\n\n… cut to fit a GitHub comment: the job summary and `cost --against` have the rest.\n"
    return text


def exit_code(comment: CostComment) -> int:
    """2 when a stack of this branch could not be planned, 3 when one is over budget, 4 when a budget cannot be
    checked, else 0 (the codes of `cost`)."""
    if comment.failed:
        return 2
    if comment.over_budget:
        return 3
    if comment.uncheckable:
        return 4
    return 0
