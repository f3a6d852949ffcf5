"""What an estimate is made of: cost lines (one per cost component of a resource), resources that cost nothing
themselves, resources or components without a price, and the totals. Amounts are exact `Decimal`s."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Kind(StrEnum):
    BASELINE = "baseline"
    """Paid whatever the traffic: hours of a running resource, a month of a key or a secret."""
    USAGE = "usage"
    """Depends on the usage assumptions: data transfer, requests, stored GB, capacity units."""


class Category(StrEnum):
    """The rows of the finance report, in the seed's spirit (service, not resource type)."""

    COMPUTE = "Compute"
    DATABASE = "Database (MongoDB Atlas)"
    CACHE = "Cache (Redis/Valkey)"
    LOAD_BALANCER = "Load balancer"
    NETWORK = "Network (NAT, public IPv4, endpoints)"
    DATA_TRANSFER = "Data transfer (internet, across AZs)"
    FILES = "File storage (S3, ECR)"
    CDN = "CDN (CloudFront)"
    SECURITY = "Security (WAF, KMS, secrets)"
    MONITORING = "Monitoring and logs"
    DNS = "DNS (Route 53)"
    THIRD_PARTY = "Third party, not on the AWS bill (Datadog)"
    """Billed by another company: kept apart so finance never reads it as AWS spend (nor AWS support on it)."""


class BudgetStatus(StrEnum):
    NONE = "none"
    """The stack sets no monthlyBudgetUsd."""
    WITHIN = "within"
    OVER = "over"
    """The priced lines alone exceed the budget (unpriced items would only add to them)."""
    UNKNOWN = "unknown"
    """Below the budget, but a baseline item is unpriced: the real bill may be above it."""


@dataclass(frozen=True)
class Line:
    """One cost component of one resource: quantity x unit price, per month."""

    resource: str
    type: str
    component: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    kind: Kind
    category: Category
    source: str
    """The source's id in the price table (or `config:<key>` for a price the stack declares)."""
    source_url: str
    source_date: str
    price_key: str = ""
    """The price table entry (`ec2.instance.c7g.xlarge`), or `config:<key>` for a declared price."""

    @property
    def monthly(self) -> Decimal:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Unpriced:
    """A resource, or one cost component of it, the estimator cannot price: never counted as $0 silently.

    `kind` says what the missing amount would be: a baseline amount (an instance type without a price, a resource
    the tier needs that the plan lacks) makes the total a lower bound and the budget uncheckable; a usage-based
    one (traffic Atlas bills per GB, backup storage) depends on usage the estimate cannot know anyway."""

    resource: str
    type: str
    reason: str
    kind: Kind = Kind.BASELINE
    category: Category | None = None


@dataclass(frozen=True)
class Ranged:
    """A cost whose quantity is estimated but whose rate no source prints: priced at both ends of a range whose
    ends are each a sourced price (`low` and `high`, the same quantity). Shown beside the total, never in it."""

    low: Line
    high: Line
    why: str

    @property
    def resource(self) -> str:
        return self.low.resource


@dataclass(frozen=True)
class Free:
    resource: str
    type: str
    reason: str


@dataclass(frozen=True)
class Estimate:
    stack: str
    tier: str
    currency: str
    lines: tuple[Line, ...]
    unpriced: tuple[Unpriced, ...]
    free: tuple[Free, ...]
    warnings: tuple[str, ...]
    budget: Decimal | None
    price_table_version: str
    usage_files: tuple[str, ...] = field(default=())
    ranged: tuple[Ranged, ...] = field(default=())
    """Costs known only as a sourced range (Atlas backup storage): beside the total, not in it."""

    @property
    def total(self) -> Decimal:
        return sum((line.monthly for line in self.lines), Decimal(0))

    @property
    def baseline(self) -> Decimal:
        return sum((line.monthly for line in self.lines if line.kind is Kind.BASELINE), Decimal(0))

    @property
    def usage(self) -> Decimal:
        return sum((line.monthly for line in self.lines if line.kind is Kind.USAGE), Decimal(0))

    @property
    def ranged_low(self) -> Decimal:
        return sum((item.low.monthly for item in self.ranged), Decimal(0))

    @property
    def ranged_high(self) -> Decimal:
        return sum((item.high.monthly for item in self.ranged), Decimal(0))

    @property
    def unpriced_baseline(self) -> tuple[Unpriced, ...]:
        """Unpriced items that would be paid whatever the traffic: while any exists, the total is a lower bound."""
        return tuple(item for item in self.unpriced if item.kind is Kind.BASELINE)

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.total > self.budget

    @property
    def budget_status(self) -> BudgetStatus:
        if self.budget is None:
            return BudgetStatus.NONE
        if self.over_budget:
            return BudgetStatus.OVER
        return BudgetStatus.UNKNOWN if self.unpriced_baseline else BudgetStatus.WITHIN

    def by_resource(self) -> dict[str, Decimal]:
        """Monthly cost per resource name (every priced resource, in line order)."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for line in self.lines:
            totals[line.resource] += line.monthly
        return dict(totals)

    def by_category(self) -> dict[Category, Decimal]:
        totals: dict[Category, Decimal] = {}
        for category in Category:
            amount = sum((line.monthly for line in self.lines if line.category is category), Decimal(0))
            if any(line.category is category for line in self.lines):
                totals[category] = amount
        return totals
