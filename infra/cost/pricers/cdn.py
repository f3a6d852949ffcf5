"""CloudFront distributions: data out and HTTPS requests per region group, after the always-free allowance."""

from __future__ import annotations

from decimal import Decimal

from infra.cost.model import Category, Kind
from infra.cost.pricing import Bill, Ladder, PricerSpec, UsageKey

DATA_OUT = UsageKey("dataOutGb", "GB/month", "Data CloudFront delivers to viewers")
REQUESTS = UsageKey("httpsRequests", "requests/month", "HTTPS requests viewers make")
EUROPE = UsageKey("europeShare", "fraction", "Share of traffic served in Europe and Israel", Decimal(1))
ASIA = UsageKey("asiaPacificShare", "fraction", "Share of traffic served in Asia Pacific", Decimal(1))

_TEN_THOUSAND = Decimal(10_000)
# PriceClass_100 has no Asia Pacific edges: those viewers are served, and billed, from Europe (the dearer of
# the two regions it has for requests).
_BILLED_AS = {"PriceClass_100": {"asia-pacific": "europe"}}
_REGIONS = (("north-america", "North America"), ("europe", "Europe"), ("asia-pacific", "Asia Pacific"))


def _data_ladder(region: str) -> Ladder:
    """CloudFront's data out falls with the month's volume, counted per region group (CloudFront FAQs: "Usage tiers
    for data transfer are measured separately for each geographic region")."""
    key = f"cloudfront.data-out.{region}"
    return Ladder(
        key,
        (
            (Decimal(10_240), key, "first 10 TB"),
            (Decimal(40_960), f"{key}.next-40tb", "next 40 TB"),
            (Decimal(102_400), f"{key}.next-100tb", "next 100 TB"),
            (Decimal(358_400), f"{key}.next-350tb", "next 350 TB"),
        ),
    )


def _split(total: Decimal, europe: Decimal, asia: Decimal) -> dict[str, Decimal]:
    return {"north-america": total * (1 - europe - asia), "europe": total * europe, "asia-pacific": total * asia}


def _regional(bill: Bill, what: str, parts: dict[str, Decimal], allowance: str, price: str, divisor: Decimal) -> None:
    price_class = bill.resource.get("priceClass") or "PriceClass_All"
    # The free allowance goes to the cheapest region first, so it never flatters the estimate.
    for region, label in _REGIONS:
        amount = parts[region]
        if not amount:
            continue
        free = bill.context.allowances.take(allowance, amount, bill.context.prices)
        billed_as = _BILLED_AS.get(price_class, {}).get(region, region)
        suffix = f", billed at {billed_as} rates ({price_class})" if billed_as != region else ""
        free_note = f" (after {free:,} free a month per account)" if free else ""
        if price == "cloudfront.data-out":
            bill.add_tiered(f"{what}, {label}{suffix}{free_note}", (amount - free) / divisor, _data_ladder(billed_as))
            continue
        bill.add(
            f"{what}, {label}{suffix}{free_note}", (amount - free) / divisor, f"{price}.{billed_as}", kind=Kind.USAGE
        )


def _distribution(bill: Bill) -> None:
    data, requests = bill.usage(DATA_OUT.name), bill.usage(REQUESTS.name)
    europe, asia = bill.usage(EUROPE.name), bill.usage(ASIA.name)
    if europe is None or asia is None:
        return
    if europe + asia > 1:
        bill.missing(f"usage shares add up to more than 1 (europeShare {europe} + asiaPacificShare {asia})")
        return
    if data is not None:
        _regional(
            bill, "Data out", _split(data, europe, asia), "cloudfront.data-out", "cloudfront.data-out", Decimal(1)
        )
    if requests is not None:
        _regional(
            bill,
            "HTTPS requests",
            _split(requests, europe, asia),
            "cloudfront.requests",
            "cloudfront.https",
            _TEN_THOUSAND,
        )


PRICERS = {
    "aws:cloudfront/distribution:Distribution": PricerSpec(
        _distribution, Category.CDN, (DATA_OUT, REQUESTS, EUROPE, ASIA)
    ),
}

FREE = {
    "aws:cloudfront/originAccessControl:OriginAccessControl": "no charge",
    "aws:cloudfront/originAccessIdentity:OriginAccessIdentity": "no charge",
    "aws:cloudfront/cachePolicy:CachePolicy": "no charge",
    "aws:cloudfront/originRequestPolicy:OriginRequestPolicy": "no charge",
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": "no charge",
    # Signed URLs are checked at the edge at no extra charge; the keys and groups themselves are free.
    "aws:cloudfront/publicKey:PublicKey": "no charge",
    "aws:cloudfront/keyGroup:KeyGroup": "no charge",
}
