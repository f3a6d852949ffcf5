"""The vocabulary the pricers share: a read-only view of plan resources, the usage keys a pricer declares, the
free allowances ledger, and `Bill`, which turns (component, quantity, price key) into sourced cost lines."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from infra.cost.model import Category, Kind, Line, Unpriced
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


@dataclass
class PricingContext:
    prices: PriceTable
    plan: PlanView
    config: Mapping[str, Any]
    usage_of: Callable[[Resource], Mapping[str, Decimal]]
    allowances: AllowanceLedger
    warnings: list[str]

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
        price = self.context.prices.find(price_key)
        if price is None:
            self.missing(f"{component}: no price '{price_key}' in the price table (infra/cost/prices.yaml)", kind)
            return
        self.lines.append(
            Line(
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
        )

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
