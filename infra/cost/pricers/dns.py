"""Route 53 hosted zones and records (alias records to AWS resources answer queries at no charge; a certificate's
validation record is queried only when ACM issues or renews the certificate)."""

from __future__ import annotations

from decimal import Decimal

from infra.cost.model import Category, Kind
from infra.cost.pricing import Bill, PricerSpec, UsageKey

QUERIES = UsageKey("queries", "queries/month", "DNS queries to a non-alias record")
ACM_VALIDATION_DOMAIN = ".acm-validations.aws"


def _is_certificate_validation(bill: Bill) -> bool:
    values = [str(v) for v in bill.resource.get("records", default=[])]
    return bill.resource.get("type") == "CNAME" and any(ACM_VALIDATION_DOMAIN in v for v in values)


def _zone(bill: Bill) -> None:
    bill.add("Hosted zone", Decimal(1), "route53.zone")


def _record(bill: Bill) -> None:
    if bill.resource.get("aliases", default=[]):
        bill.free("an alias record to an AWS resource: Route 53 does not charge for its queries")
        return
    if _is_certificate_validation(bill):
        bill.free("ACM's validation record: queried only when the certificate is issued or renewed (cents a year)")
        return
    queries = bill.usage(QUERIES.name)
    if queries is not None:
        bill.add("Standard queries", queries / Decimal(1_000_000), "route53.queries.standard", kind=Kind.USAGE)


PRICERS = {
    "aws:route53/zone:Zone": PricerSpec(_zone, Category.DNS),
    "aws:route53/record:Record": PricerSpec(_record, Category.DNS, (QUERIES,)),
}

FREE: dict[str, str] = {}
