"""What finance reads: each tier at its traffic model (traffic, fleet, monthly and yearly cost, cost per 1,000
concurrent users and per million requests, the target's verdict), the commitment view, the optional support plan,
and the views across stacks and tiers. Every figure comes from the estimator (`cost`), the traffic model and the
sizing; nothing is typed by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from infra.capacity.traffic import TrafficModel, monthly_requests, peak_rps, traffic_model
from infra.cost.estimate import Account
from infra.cost.levers import (
    Affordable,
    Candidate,
    ConnectionCheck,
    SearchResult,
    connection_check,
    search,
    users_within,
)
from infra.cost.model import Category, Estimate, Line
from infra.cost.price_table import PriceTable
from infra.cost.scenario import Levers
from infra.cost.stacks import estimate_of
from infra.cost.tiers import TierSpec
from infra.cost.traffic_usage import flat_settings
from infra.plan.document import Plan, build_plan

MONTHS_PER_YEAR = 12
THOUSAND = Decimal(1000)
MILLION = Decimal(1_000_000)
SIZE_FLEXIBILITY_SOURCE = (
    "AWS Database Blog, 'New - Size flexibility for Amazon ElastiCache reserved nodes' "
    "(https://aws.amazon.com/blogs/database/new-size-flexibility-for-amazon-elasticache-reserved-nodes/, read "
    "2026-12-01): 'enabling your reserved node discount to apply to all node types in the node family'"
)
RESERVED_FAMILY = "m6g"
"""The one cache node family whose 1-year reserved rate a source prints (its 12xlarge; size-flexible)."""
NOT_COMMITTED = (
    "EC2 and EKS nodes: no dated public source read here prints a 1-year Compute Savings Plan or reserved rate for "
    "the Graviton types these tiers run (infracost's goldens print one only for t3.medium), so the view leaves them "
    "on demand",
    "MongoDB Atlas: its annual commitments are negotiated, with no public rate",
)


@dataclass(frozen=True)
class Commitments:
    """The same plan with the 1-year commitments a dated public source prices; never the on-demand figure."""

    on_demand: Decimal
    savings: tuple[tuple[Line, Decimal], ...]
    """(the on-demand line, what the commitment saves on it a month)"""
    ratio: Decimal
    not_covered: tuple[str, ...] = NOT_COMMITTED

    @property
    def monthly(self) -> Decimal:
        return self.on_demand - sum((saved for _, saved in self.savings), Decimal(0))


def reserved_ratio(prices: PriceTable) -> Decimal:
    """1-year, no-upfront reserved / on-demand for the m6g cache family, as the source prints both."""
    reserved = prices.get(f"elasticache.reserved-1y-no-upfront.{RESERVED_FAMILY}.12xlarge").usd
    on_demand = prices.get(f"elasticache.on-demand.{RESERVED_FAMILY}.12xlarge").usd
    return reserved / on_demand


def commitments(estimate: Estimate, prices: PriceTable) -> Commitments:
    ratio = reserved_ratio(prices)
    covered = [
        (line, line.monthly * (1 - ratio))
        for line in estimate.lines
        if line.price_key.startswith("elasticache.") and f".cache.{RESERVED_FAMILY}." in line.price_key
    ]
    return Commitments(estimate.total, tuple(covered), ratio)


def aws_charges(estimate: Estimate) -> Decimal:
    """What AWS bills of the estimate: everything but Atlas, which MongoDB bills, and third parties (Datadog)."""
    return sum(
        (
            line.monthly
            for line in estimate.lines
            if not line.price_key.startswith("atlas.") and line.category is not Category.THIRD_PARTY
        ),
        Decimal(0),
    )


def business_support(estimate: Estimate, prices: PriceTable) -> Decimal:
    """AWS Business Support for this stack's AWS charges: the greater of the minimum and the rate (optional)."""
    rate, minimum = prices.get("support.business.rate").usd, prices.get("support.business.minimum").usd
    return max(minimum, rate * aws_charges(estimate))


@dataclass(frozen=True)
class Verdict:
    meets: str
    """'on demand', 'with commitments' or 'no'."""
    text: str


@dataclass(frozen=True)
class TierReport:
    spec: TierSpec
    model: TrafficModel
    plan: Plan
    """The tier's real plan with its presets: what `cost` prices."""
    estimate: Estimate
    """What `spec.command` prints."""
    search: SearchResult
    best: Candidate
    connections: ConnectionCheck
    commitments: Commitments
    support: Decimal
    affordable: Affordable | None
    presets_are_best: bool

    @property
    def users(self) -> Decimal:
        return self.model.concurrent_users

    @property
    def monthly(self) -> Decimal:
        return self.estimate.total

    @property
    def yearly(self) -> Decimal:
        return self.monthly * MONTHS_PER_YEAR

    @property
    def per_thousand_users(self) -> Decimal:
        return self.monthly / (self.users / THOUSAND)

    @property
    def per_million_requests(self) -> Decimal:
        return self.monthly / (monthly_requests(self.model) / MILLION)

    @property
    def peak_rps(self) -> Decimal:
        return peak_rps(self.model)

    @property
    def fleet(self) -> str:
        fleet, _, _ = self.best.chosen
        return fleet.describe()

    @property
    def settings(self) -> dict[str, str]:
        return flat_settings(self.plan.config)

    @property
    def verdict(self) -> Verdict:
        target = self.spec.target
        if self.monthly <= target:
            return Verdict("on demand", f"meets it on demand ({_usd(target - self.monthly)} to spare)")
        if self.commitments.monthly <= target:
            return Verdict("with commitments", "meets it only with the commitments the view prices")
        bought = self.affordable.users if self.affordable else 0
        if self.affordable is not None and not bought:
            return Verdict(
                "no",
                f"not met, on demand or with commitments; the tier's floor (its smallest fleet the rules allow, with "
                f"almost no traffic) is {_usd(self.affordable.floor)}, above {_usd(target)}",
            )
        return Verdict(
            "no",
            f"not met, on demand or with commitments; {_usd(target)} a month buys about {bought:,} concurrent users "
            "at p95 < 200 ms",
        )


def _usd(amount: Decimal) -> str:
    from infra.cost.render import usd

    return usd(amount)


def preset_levers(plan: Plan) -> Levers:
    settings = flat_settings(plan.config)
    pods = settings.get("podMinReplicas") if plan.tier == "B" else None
    max_pods = settings.get("podMaxReplicas") if plan.tier == "B" else None
    return Levers(
        instance_type=settings["computeInstanceType"],
        instances=int(settings["computeDesiredSize"]),
        max_instances=int(settings["computeMaxSize"]),
        cache_node_type=settings["cacheNodeType"],
        cdn_price_class=settings["cdnPriceClass"],
        log_retention_days=int(settings["logRetentionDays"]),
        pods=int(pods) if pods else None,
        max_pods=int(max_pods) if max_pods else None,
    )


def tier_report(spec: TierSpec, root: Path, prices: PriceTable, today: dt.date) -> TierReport:
    model = traffic_model(spec.tier)
    plans: dict[tuple[str, ...], Plan] = {}
    result = search(spec, model, root, prices, today, plans=plans)
    best = result.best
    plan = build_plan(spec.stack, spec.overrides, root)
    estimate = estimate_of(plan, root, None, prices, today)
    _, best_levers, best_estimate = best.chosen
    presets_are_best = estimate.total == best_estimate.total and preset_levers(plan) == best_levers
    affordable = None
    if estimate.total > spec.target:
        affordable = users_within(spec.target, best, plans[best.structure], model, root, prices, today)
    return TierReport(
        spec=spec,
        model=model,
        plan=plan,
        estimate=estimate,
        search=result,
        best=best,
        connections=connection_check(preset_levers(plan), plan, model),
        commitments=commitments(estimate, prices),
        support=business_support(estimate, prices),
        affordable=affordable,
        presets_are_best=presets_are_best,
    )


# Views across stacks (`cost --stacks`) and across tiers (`cost --compare-tiers`).
@dataclass(frozen=True)
class StackCost:
    stack: str
    account: str
    alone: Estimate
    """What `cost --stack` prints: the stack with its account's free allowances to itself."""
    in_account: Estimate
    """Priced after the account's earlier stacks: the allowances and volume tiers they used are gone."""

    @property
    def yearly(self) -> Decimal:
        return self.in_account.total * MONTHS_PER_YEAR


def account_of(plan: Plan) -> str:
    """The stack's AWS account, when its stack file pins one (`aws:allowedAccountIds`); otherwise the stacks are
    taken to share one account (the README's deploy guide keeps dev and prod in one account)."""
    allowed = (plan.config or {}).get("aws:allowedAccountIds")
    if allowed:
        return str(allowed).strip("[]").replace('"', "").replace("'", "")
    return "the default account"


def stacks_view(plans: list[Plan], root: Path, prices: PriceTable, today: dt.date) -> list[StackCost]:
    """Each stack alone, and priced in turn within its account, sharing the account's allowances and tiers."""
    accounts: dict[str, Account] = {}
    rows = []
    for plan in plans:
        account = account_of(plan)
        shared = accounts.setdefault(account, Account())
        rows.append(
            StackCost(
                stack=plan.stack,
                account=account,
                alone=estimate_of(plan, root, None, prices, today),
                in_account=estimate_of(plan, root, None, prices, today, shared),
            )
        )
    return rows
