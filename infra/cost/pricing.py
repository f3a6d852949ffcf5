"""The vocabulary the pricers share: a read-only view of plan resources, the usage keys a pricer declares, the
free allowances ledger, and `Bill`, which turns (component, quantity, price key) into sourced cost lines."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from infra.cost.model import Category, Kind, Line, Ranged, Unpriced
from infra.cost.price_table import PriceTable


@dataclass(frozen=True)
class Resource:
    """One resource of the plan JSON (the contract in ARCHITECTURE.md)."""

    urn: str
    type: str
    name: str
    parent: str | None
    inputs: Mapping[str, Any]

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> Resource:
        return cls(
            urn=document["urn"],
            type=document["type"],
            name=document["name"],
            parent=document.get("parent"),
            inputs=document.get("inputs") or {},
        )

    def get(self, *path: str | int, default: Any = None) -> Any:
        """A nested input (`get("scalingConfig", "desiredSize")`), or `default` when any step is missing."""
        node: Any = self.inputs
        for step in path:
            if isinstance(step, int):
                if not isinstance(node, list) or step >= len(node):
                    return default
                node = node[step]
            else:
                if not isinstance(node, Mapping) or step not in node:
                    return default
                node = node[step]
        return default if node is None else node


@dataclass(frozen=True)
class PlanView:
    resources: tuple[Resource, ...]

    def by_mock_id(self, resource_id: str) -> Resource | None:
        """The offline plan's engine gives every resource the id `<name>-id`; a real preview leaves ids unknown."""
        return next((r for r in self.resources if f"{r.name}-id" == resource_id), None)

    def of_type(self, type_token: str, parent: str | None = None) -> list[Resource]:
        return [r for r in self.resources if r.type == type_token and (parent is None or r.parent == parent)]


@dataclass(frozen=True)
class UsageKey:
    """A usage assumption a pricer reads (`lcuPerHour`), with its unit and meaning for the docs and errors."""

    name: str
    unit: str
    description: str
    maximum: Decimal | None = None


class UsageMissingError(LookupError):
    """No usage file gives a value for this key: the component is reported as depending on usage."""


@dataclass
class AllowanceLedger:
    """Free monthly allowances are per account, not per resource: each is handed out once, first come (the
    plan's URN order), so two load balancers never both get the same 100 GB. An estimate prices one stack, so
    it gives that stack the whole allowance; `granted` records what it gave, to say so in the output."""

    remaining: dict[str, Decimal] = field(default_factory=dict)
    granted: dict[str, Decimal] = field(default_factory=dict)

    def take(self, key: str, requested: Decimal, table: PriceTable) -> Decimal:
        left = self.remaining.setdefault(key, table.allowance(key).quantity)
        granted = min(left, max(requested, Decimal(0)))
        self.remaining[key] = left - granted
        if granted:
            self.granted[key] = self.granted.get(key, Decimal(0)) + granted
        return granted


@dataclass(frozen=True)
class Ladder:
    """A price that falls with the month's volume (internet egress, CloudFront per region): each step's size in
    units (None: the rest) and its price key. Volumes beyond the last sized step with no price are unpriced."""

    name: str
    steps: tuple[tuple[Decimal | None, str, str], ...]
    """(units in the step or None for the rest, price key, label of the step)"""


@dataclass
class VolumeLedger:
    """Volume tiers count the account's month, not one resource's: what each ladder has already used in this
    estimate, so the second resource's gigabytes continue where the first one's stopped."""

    used: dict[str, Decimal] = field(default_factory=dict)

    def split(self, ladder: Ladder, quantity: Decimal) -> list[tuple[Decimal, str, str]]:
        """(quantity, price key, step label) for `quantity` more units of `ladder`."""
        start = self.used.get(ladder.name, Decimal(0))
        self.used[ladder.name] = start + quantity
        parts, floor, left = [], Decimal(0), quantity
        for size, price_key, label in ladder.steps:
            ceiling = None if size is None else floor + size
            if ceiling is not None and start >= ceiling:
                floor = ceiling
                continue
            room = left if ceiling is None else min(left, ceiling - max(start, floor))
            if room > 0:
                parts.append((room, price_key, label))
                left -= room
            if left <= 0 or ceiling is None:
                break
            floor = ceiling
        if left > 0:
            parts.append((left, "", "beyond the priced steps"))
        return parts


@dataclass
class PricingContext:
    prices: PriceTable
    plan: PlanView
    config: Mapping[str, Any]
    usage_of: Callable[[Resource], Mapping[str, Decimal]]
    allowances: AllowanceLedger
    warnings: list[str]
    volumes: VolumeLedger = field(default_factory=VolumeLedger)

    @property
    def hours(self) -> Decimal:
        return self.prices.hours_per_month


@dataclass
class Bill:
    """The cost lines of one resource. A component whose price or usage is missing becomes an `Unpriced`
    entry that names what is missing, never a $0 line."""

    resource: Resource
    context: PricingContext
    category: Category
    lines: list[Line] = field(default_factory=list)
    unpriced: list[Unpriced] = field(default_factory=list)
    ranged: list[Ranged] = field(default_factory=list)
    free_reason: str | None = None

    def add(
        self,
        component: str,
        quantity: Decimal,
        price_key: str,
        *,
        kind: Kind = Kind.BASELINE,
        category: Category | None = None,
    ) -> None:
        if kind is Kind.USAGE and not quantity:
            return  # no usage, no line: a "$0.00 for 0 GB" row says nothing and hides the lines that matter
        line = self._line(component, quantity, price_key, kind, category)
        if line is None:
            self.missing(f"{component}: no price '{price_key}' in the price table (infra/cost/prices.yaml)", kind)
            return
        self.lines.append(line)

    def _line(
        self, component: str, quantity: Decimal, price_key: str, kind: Kind, category: Category | None
    ) -> Line | None:
        price = self.context.prices.find(price_key)
        if price is None:
            return None
        return Line(
            resource=self.resource.name,
            type=self.resource.type,
            component=component,
            quantity=quantity,
            unit=price.unit,
            unit_price=price.usd,
            kind=kind,
            category=category or self.category,
            source=price.source.id,
            source_url=price.source.url,
            source_date=price.source.date.isoformat(),
            price_key=price_key,
        )

    def add_tiered(
        self,
        component: str,
        quantity: Decimal,
        ladder: Ladder,
        *,
        kind: Kind = Kind.USAGE,
        category: Category | None = None,
    ) -> None:
        """`quantity` units priced step by step on `ladder`, continuing the month's volume where the estimate's
        earlier resources left it; one line per step used, the step named when it is not the first."""
        first = ladder.steps[0][2]
        for part, price_key, label in self.context.volumes.split(ladder, quantity):
            if not price_key:
                self.missing(f"{component}: {part:,} units {label} of {ladder.name} (no price in the table)", kind)
                continue
            self.add(
                f"{component} ({label})" if label != first else component, part, price_key, kind=kind, category=category
            )

    def add_range(
        self, component: str, quantity: Decimal, low_key: str, high_key: str, why: str, *, kind: Kind = Kind.USAGE
    ) -> None:
        """A cost known only between two sourced prices: beside the total (Estimate.ranged), not in it."""
        low = self._line(component, quantity, low_key, kind, None)
        high = self._line(component, quantity, high_key, kind, None)
        if low is None or high is None:
            self.missing(f"{component}: no price '{low_key}' or '{high_key}' in the price table", kind)
            return
        self.ranged.append(Ranged(low, high, why))

    def add_declared(self, component: str, monthly_usd: Decimal, config_key: str, note_url: str = "") -> None:
        """A price the stack's config declares (an external service): one month at that price."""
        self.lines.append(
            Line(
                resource=self.resource.name,
                type=self.resource.type,
                component=component,
                quantity=Decimal(1),
                unit="month",
                unit_price=monthly_usd,
                kind=Kind.BASELINE,
                category=self.category,
                source=f"config:{config_key}",
                source_url=note_url,
                source_date="",
                price_key=f"config:{config_key}",
            )
        )

    def usage(self, key: str) -> Decimal | None:
        """The usage assumption `key` for this resource, or None (and an unpriced entry) when no file sets it."""
        value = self.context.usage_of(self.resource).get(key)
        if value is None:
            self.missing(
                f"depends on usage: set '{key}' for {self.resource.type} in the stack's usage file", Kind.USAGE
            )
        return value

    def free(self, reason: str) -> None:
        """This resource, as configured, costs nothing itself (a gateway endpoint, a group member)."""
        self.free_reason = reason

    def missing(self, reason: str, kind: Kind = Kind.BASELINE) -> None:
        """A cost the estimate cannot price: `kind` says whether it is paid whatever the traffic (then the total
        is only a lower bound and a budget cannot be checked) or depends on usage."""
        self.unpriced.append(Unpriced(self.resource.name, self.resource.type, reason, kind, self.category))


PricerFunction = Callable[[Bill], None]


@dataclass(frozen=True)
class PricerSpec:
    """How one resource type is priced: the function, the report category, and the usage keys it reads."""

    function: PricerFunction
    category: Category
    usage_keys: Sequence[UsageKey] = ()


def integer(value: Any, default: int = 0) -> int:
    """Plan numbers arrive as ints or floats (the engine's wire format): counts are whole."""
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return default
