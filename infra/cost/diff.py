"""What a change does to the bill: per resource and in total, between a baseline estimate and a new one.

A resource with an unpriced baseline part (an instance type without a price, say) is never shown as a saving or
a cost it may not be: when either side has one, its change is unknown (`?`), and so is the total's. Unpriced
usage-based parts (Atlas backup storage and data transfer) are left out of both sides alike, as they are left
out of the totals and the budget check.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from infra.cost.model import Estimate, Kind

_Key = tuple[str, str]


@dataclass(frozen=True)
class ResourceChange:
    resource: str
    type: str
    before: Decimal
    after: Decimal
    unpriced: tuple[str, ...] = ()
    """Why the change is unknown: the unpriced parts of the resource (after the change, else before it)."""

    @property
    def known(self) -> bool:
        return not self.unpriced

    @property
    def change(self) -> Decimal:
        """The change of the priced parts only: meaningful when `known`."""
        return self.after - self.before

    @property
    def marker(self) -> str:
        """`+` added, `-` removed, `~` changed, `?` unknown (a part is unpriced): the convention of plan diffs."""
        if not self.known:
            return "?"
        if self.before == 0 and self.after != 0:
            return "+"
        if self.after == 0 and self.before != 0:
            return "-"
        return "~"


@dataclass(frozen=True)
class CostDiff:
    against: str
    """What the estimate is compared with: a plan file or a stack."""
    before: Decimal
    after: Decimal
    changes: tuple[ResourceChange, ...]

    @property
    def change(self) -> Decimal:
        """The change of the priced totals: the real change only when `known`."""
        return self.after - self.before

    @property
    def known(self) -> bool:
        return all(c.known for c in self.changes)

    @property
    def unknown(self) -> tuple[ResourceChange, ...]:
        return tuple(c for c in self.changes if not c.known)


def _per_resource(estimate: Estimate) -> dict[_Key, Decimal]:
    totals: dict[_Key, Decimal] = {}
    for line in estimate.lines:
        key = (line.resource, line.type)
        totals[key] = totals.get(key, Decimal(0)) + line.monthly
    return totals


def _unpriced(estimate: Estimate) -> dict[_Key, list[tuple[Kind, str]]]:
    parts: dict[_Key, list[tuple[Kind, str]]] = {}
    for item in estimate.unpriced:
        parts.setdefault((item.resource, item.type), []).append((item.kind, item.reason))
    return parts


def _unknown_because(old: list[tuple[Kind, str]], new: list[tuple[Kind, str]]) -> tuple[str, ...]:
    """The unpriced baseline parts that make a resource's change unknown (after the change, else before it), or
    () when its baseline is priced on both sides."""
    gaps_after = tuple(reason for kind, reason in new if kind is Kind.BASELINE)
    return gaps_after or tuple(reason for kind, reason in old if kind is Kind.BASELINE)


def diff(before: Estimate, after: Estimate, against: str) -> CostDiff:
    """Resources whose monthly cost differs (added, removed, changed) or cannot be compared (unpriced baseline
    parts), by name; unchanged, fully priced ones are left out."""
    old, new = _per_resource(before), _per_resource(after)
    old_gaps, new_gaps = _unpriced(before), _unpriced(after)
    changes = []
    for key in sorted(set(old) | set(new) | set(old_gaps) | set(new_gaps)):
        unknown = _unknown_because(old_gaps.get(key, []), new_gaps.get(key, []))
        was, now = old.get(key, Decimal(0)), new.get(key, Decimal(0))
        if unknown or was != now:
            changes.append(ResourceChange(key[0], key[1], was, now, unknown))
    return CostDiff(against=against, before=before.total, after=after.total, changes=tuple(changes))
