"""What a change does to the bill: per resource and in total, between a baseline estimate and a new one."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from infra.cost.model import Estimate


@dataclass(frozen=True)
class ResourceChange:
    resource: str
    type: str
    before: Decimal
    after: Decimal

    @property
    def change(self) -> Decimal:
        return self.after - self.before

    @property
    def marker(self) -> str:
        """`+` added, `-` removed, `~` changed: the convention of plan diffs."""
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
        return self.after - self.before


def _per_resource(estimate: Estimate) -> dict[tuple[str, str], Decimal]:
    totals: dict[tuple[str, str], Decimal] = {}
    for line in estimate.lines:
        key = (line.resource, line.type)
        totals[key] = totals.get(key, Decimal(0)) + line.monthly
    return totals


def diff(before: Estimate, after: Estimate, against: str) -> CostDiff:
    """Resources whose monthly cost differs (added, removed or changed), by name; unchanged ones are left out."""
    old, new = _per_resource(before), _per_resource(after)
    changes = tuple(
        ResourceChange(
            name, type_token, old.get((name, type_token), Decimal(0)), new.get((name, type_token), Decimal(0))
        )
        for name, type_token in sorted(set(old) | set(new))
        if old.get((name, type_token), Decimal(0)) != new.get((name, type_token), Decimal(0))
    )
    return CostDiff(against=against, before=before.total, after=after.total, changes=changes)
