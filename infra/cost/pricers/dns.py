"""Route 53 hosted zones and records (alias records to AWS resources answer queries at no charge)."""

from __future__ import annotations

from decimal import Decimal

from infra.cost.model import Category, Kind
from infra.cost.pricing import Bill, PricerSpec, UsageKey

QUERIES = UsageKey("queries", "queries/month", "DNS queries to a non-alias record")


def _zone(bill: Bill) -> None:
    bill.add("Hosted zone", Decimal(1), "route53.zone")


def _record(bill: Bill) -> None:
    if bill.resource.get("aliases", default=[]):
        bill.free("an alias record to an AWS resource: Route 53 does not charge for its queries")
        return
    queries = bill.usage(QUERIES.name)
    if queries is not None:
        bill.add("Standard queries", queries / Decimal(1_000_000), "route53.queries.standard", kind=Kind.USAGE)


PRICERS = {
    "aws:route53/zone:Zone": PricerSpec(_zone, Category.DNS),
    "aws:route53/record:Record": PricerSpec(_record, Category.DNS, (QUERIES,)),
}

FREE: dict[str, str] = {}
