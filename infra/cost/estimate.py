"""The estimator: a plan (the JSON contract) plus usage assumptions and the price table give an `Estimate`.

Every resource ends in exactly one place: priced lines, free (with the reason), or unpriced (with the reason
and a warning). Components (`custom: false`) and providers are not cloud resources and are skipped. What the
tier needs and the plan lacks (`infra.cost.needs`) is unpriced too, so the total never looks complete when it
is not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from infra.cost.model import Category, Estimate, Free, Kind, Line, Ranged, Unpriced
from infra.cost.needs import missing_needs
from infra.cost.price_table import PriceTable, load_price_table
from infra.cost.pricers import FREE_TYPES, PRICERS
from infra.cost.pricers.datadog import datadog_bill
from infra.cost.pricers.job_metrics import job_metrics_bill
from infra.cost.pricers.platform import free_reason, outside_the_plan
from infra.cost.pricing import AllowanceLedger, Bill, PlanView, PricingContext, Resource, VolumeLedger
from infra.cost.usage import Usage
from infra.plan.document import Plan

BUDGET_KEY = "monthlyBudgetUsd"
EXTERNAL_REDIS_KEY = "externalRedisMonthlyUsd"
EXTERNAL_REDIS_TYPE = "config:cache/external:Redis"
UNKNOWN_TYPE = (
    "the estimator does not know this resource type: add a pricer in infra/cost/pricers/ (or list the type as "
    "free there, with the reason)"
)


def _decimal_or_none(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None


def _is_cloud_resource(document: Mapping[str, Any]) -> bool:
    return bool(document.get("custom")) and not str(document.get("type", "")).startswith("pulumi:providers:")


class _Collector:
    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.unpriced: list[Unpriced] = []
        self.free: list[Free] = []
        self.ranged: list[Ranged] = []

    def price(self, resource: Resource, context: PricingContext) -> None:
        spec = PRICERS.get(resource.type)
        if spec is not None:
            bill = Bill(resource, context, spec.category)
            spec.function(bill)
            self.lines += bill.lines
            self.unpriced += bill.unpriced
            self.ranged += bill.ranged
            if not bill.lines and not bill.unpriced and not bill.ranged:
                self.free.append(Free(resource.name, resource.type, bill.free_reason or "no charge as configured"))
            return
        if (reason := outside_the_plan(resource)) is not None:
            self.unpriced.append(Unpriced(resource.name, resource.type, reason, Kind.BASELINE))
        elif resource.type in FREE_TYPES:
            self.free.append(Free(resource.name, resource.type, FREE_TYPES[resource.type]))
        elif (reason := free_reason(resource)) is not None:
            self.free.append(Free(resource.name, resource.type, reason))
        else:
            self.unpriced.append(Unpriced(resource.name, resource.type, UNKNOWN_TYPE))


def _external_redis(config: Mapping[str, Any], context: PricingContext, collector: _Collector) -> None:
    """A Redis the program does not manage is no resource of the plan; its price is a config value."""
    cache = config.get("cache") or {}
    if cache.get("cacheMode") != "external":
        return
    resource = Resource(urn="", type=EXTERNAL_REDIS_TYPE, name="external-redis", parent=None, inputs={})
    monthly = _decimal_or_none(cache.get(EXTERNAL_REDIS_KEY))
    if monthly is None:
        collector.unpriced.append(
            Unpriced(
                resource.name,
                resource.type,
                f"cacheMode is external but the plan has no {EXTERNAL_REDIS_KEY}",
                Kind.BASELINE,
                Category.CACHE,
            )
        )
        return
    if monthly == 0:
        context.warnings.append(
            f"the external Redis is priced at $0 ({EXTERNAL_REDIS_KEY} is 0): set it to what the provider charges "
            "(a free plan is capped far below production load)"
        )
    bill = Bill(resource, context, Category.CACHE)
    bill.add_declared("External Redis (declared in config)", monthly, EXTERNAL_REDIS_KEY)
    collector.lines += bill.lines


HOSTED_ZONE_KEY = "hostedZoneId"
HOSTED_ZONE_TYPE = "aws:route53/zone:Zone"


def _hosted_zone(config: Mapping[str, Any], context: PricingContext, collector: _Collector) -> None:
    """The Route 53 zone `hostedZoneId` names: the stack validates its certificate and writes its alias records
    there, so the stack pays for it, though the program does not create it (one zone may serve several stacks:
    then it is counted in each)."""
    if not config.get(HOSTED_ZONE_KEY) or context.plan.of_type(HOSTED_ZONE_TYPE):
        return
    resource = Resource(urn="", type=HOSTED_ZONE_TYPE, name="hosted-zone (hostedZoneId)", parent=None, inputs={})
    bill = Bill(resource, context, Category.DNS)
    bill.add("Hosted zone the stack uses (hostedZoneId; not created by this program)", Decimal(1), "route53.zone")
    collector.lines += bill.lines
    collector.unpriced += bill.unpriced


def _plan_level(bill: Bill | None, collector: _Collector) -> None:
    """Costs that no single resource of the plan carries (metrics an exporter creates, a third party's hosts)."""
    if bill is not None:
        collector.lines += bill.lines
        collector.unpriced += bill.unpriced


def _unpriced_warnings(unpriced: list[Unpriced]) -> list[str]:
    warnings = []
    unknown = sorted({u.type for u in unpriced if u.reason == UNKNOWN_TYPE})
    if unknown:
        warnings.append(f"resource types the estimator does not know (unpriced, not $0): {', '.join(unknown)}")
    baseline = [u for u in unpriced if u.kind is Kind.BASELINE]
    if baseline:
        names = ", ".join(dict.fromkeys(u.resource for u in baseline))
        warnings.append(
            f"{len(baseline)} baseline cost item(s) are unpriced ({names}): the total is a lower bound and a budget "
            "cannot be checked; see `unpriced`"
        )
    usage = [u for u in unpriced if u.kind is Kind.USAGE]
    if usage:
        warnings.append(f"{len(usage)} usage-based cost item(s) are not in the total: see `unpriced`")
    return warnings


def _allowance_warning(context: PricingContext) -> str | None:
    granted = context.allowances.granted
    if not granted:
        return None
    listed = ", ".join(
        f"{amount:,} {context.prices.allowance(key).unit} of {key}" for key, amount in sorted(granted.items())
    )
    return (
        f"free allowances are per AWS account, and this estimate gives them all to this stack ({listed}); stacks "
        "that share the account share them, so each one's real bill is higher"
    )


@dataclass
class Account:
    """What the stacks of one AWS account share over a month: the free allowances and the volume tiers. Price
    several stacks with one `Account` and the second one gets what the first one left."""

    allowances: AllowanceLedger = field(default_factory=AllowanceLedger)
    volumes: VolumeLedger = field(default_factory=VolumeLedger)


def estimate(
    plan: Plan,
    usage: Usage,
    prices: PriceTable | None = None,
    today: dt.date | None = None,
    account: Account | None = None,
) -> Estimate:
    """`account`: the ledgers shared with the other stacks of the same AWS account (default: this stack alone)."""
    prices = prices or load_price_table()
    account = account or Account()
    config: Mapping[str, Any] = plan.config or {}
    warnings: list[str] = []
    if not config:
        warnings.append(
            "the plan has no `config` section (written by an older `plan`): the budget and an external Redis's "
            "price are unknown; re-run `python -m infra.cli plan --json`"
        )
    region = config.get("aws:region")
    if region and region != prices.region:
        warnings.append(f"the stack runs in {region} but the price table holds {prices.region} prices: used as is")
    documents = [d for d in plan.resources if _is_cloud_resource(d)]
    view = PlanView(tuple(Resource.of(d) for d in documents))
    context = PricingContext(prices, view, config, usage.of, account.allowances, warnings, account.volumes)
    collector = _Collector()
    for resource in view.resources:
        collector.price(resource, context)
    _external_redis(config, context, collector)
    _hosted_zone(config, context, collector)
    _plan_level(job_metrics_bill(context), collector)
    _plan_level(datadog_bill(context), collector)
    collector.unpriced += missing_needs(plan.tier, view)

    warnings += _unpriced_warnings(collector.unpriced)
    warnings += usage.unmatched_patterns()
    if (shared := _allowance_warning(context)) is not None:
        warnings.append(shared)
    # Only the prices this estimate used: an old price of a resource type the plan lacks changes nothing here.
    used = [line.price_key for line in collector.lines if line.price_key in prices.prices]
    stale = prices.stale_warning(today or dt.date.today(), used)
    if stale:
        warnings.append(stale)
    return Estimate(
        stack=plan.stack,
        tier=plan.tier,
        currency=prices.currency,
        lines=tuple(collector.lines),
        unpriced=tuple(collector.unpriced),
        free=tuple(collector.free),
        warnings=tuple(dict.fromkeys(warnings)),  # once each, in order
        budget=_decimal_or_none(config.get(BUDGET_KEY)),
        price_table_version=prices.version,
        usage_files=usage.origins,
        ranged=tuple(collector.ranged),
    )
