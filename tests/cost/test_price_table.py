"""The price table: every price tied to the figure its source prints, sourced and dated, exact, and stale
prices reported."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from importlib import resources

import pytest
import yaml

from infra.cost.price_table import MissingPriceError, PriceTableError, load_price_table, parse_price_table

TABLE = load_price_table()
RAW = yaml.safe_load(resources.files("infra.cost").joinpath("prices.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("key", sorted(TABLE.prices))
def test_each_price_is_tied_to_the_figure_its_source_prints(key: str) -> None:
    price = TABLE.get(key)
    printed_numbers = {Decimal(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", price.printed)}
    assert price.figure in printed_numbers, (
        f"{key}: the figure {price.figure} does not appear in what the source prints: {price.printed!r}"
    )
    half_unit = Decimal(1).scaleb(price.figure.as_tuple().exponent) / 2  # type: ignore[arg-type]
    assert abs(price.usd * price.per - price.figure) <= half_unit, (
        f"{key}: {price.usd} x {price.per} = {price.usd * price.per}, but the source prints {price.figure}"
    )


def test_every_price_and_allowance_has_a_source_with_a_date_and_an_address() -> None:
    for item in [*TABLE.prices.values(), *TABLE.allowances.values()]:
        assert item.source.url.startswith("https://"), item.key
        assert item.source.date <= dt.date.fromisoformat(TABLE.version), f"{item.key}: dated after the table"
    used = {p.source.id for p in TABLE.prices.values()} | {a.source.id for a in TABLE.allowances.values()}
    assert used == set(TABLE.sources), f"sources no price uses: {set(TABLE.sources) - used}"


def test_prices_are_strings_in_the_file_so_no_float_reaches_decimal() -> None:
    for key, entry in RAW["prices"].items():
        assert isinstance(entry["usd"], str), key
    with pytest.raises(PriceTableError, match=r"prices\.x\.usd.*quoted string"):
        parse_price_table(RAW | {"prices": {"x": RAW["prices"]["vpc.nat.hour"] | {"usd": 0.045}}})


def test_an_unknown_source_is_refused_naming_the_entry() -> None:
    broken = RAW | {"prices": {"x": RAW["prices"]["vpc.nat.hour"] | {"source": "nowhere"}}}
    with pytest.raises(PriceTableError, match="x: unknown source 'nowhere'"):
        parse_price_table(broken)


def test_a_missing_price_is_an_error_not_zero() -> None:
    with pytest.raises(MissingPriceError):
        TABLE.get("ec2.instance.x9z.huge")


def test_prices_older_than_180_days_are_reported_by_source() -> None:
    fresh_day = dt.date(2026, 1, 20)  # the day after the EC2 list was generated
    assert all(p.source.id != "karpenter" for p in TABLE.stale(fresh_day))
    later = fresh_day + dt.timedelta(days=TABLE.max_age_days + 1)
    warning = TABLE.stale_warning(later)
    assert warning is not None
    assert "karpenter (2026-01-19)" in warning
    assert "older than 180 days" in warning


def test_valkey_nodes_cost_80_percent_of_redis_nodes() -> None:
    for key, price in TABLE.prices.items():
        if key.startswith("elasticache.valkey."):
            redis = TABLE.get(key.replace(".valkey.", ".redis."))
            assert price.usd == redis.usd * Decimal("0.8"), key
