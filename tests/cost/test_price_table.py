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


def _as_printed(figure: Decimal) -> set[str]:
    """The figure's text as a source may print it: as written in the table, or with thousands separators."""
    plain = f"{figure:f}"
    whole, _, fraction = plain.partition(".")
    grouped = f"{int(whole):,}" + (f".{fraction}" if fraction else "")
    return {plain, grouped}


@pytest.mark.parametrize("key", sorted(TABLE.prices))
def test_each_price_is_tied_to_the_figure_its_source_prints(key: str) -> None:
    price = TABLE.get(key)
    # Verbatim: the figure's own digits (trailing zeros included) stand in the printed text, as a whole number.
    assert any(
        re.search(rf"(?<![\d.,]){re.escape(text)}(?![\d])", price.printed) for text in _as_printed(price.figure)
    ), f"{key}: the figure {price.figure} does not appear verbatim in what the source prints: {price.printed!r}"
    half_unit = Decimal(1).scaleb(price.figure.as_tuple().exponent) / 2  # type: ignore[arg-type]
    expected = price.figure * price.factor
    assert abs(price.usd * price.per - expected) <= half_unit * price.factor, (
        f"{key}: {price.usd} x {price.per} = {price.usd * price.per}, but the source prints {price.figure}"
        + (f" (x {price.factor} = {expected})" if price.factor != 1 else "")
    )


def test_a_derived_price_names_the_source_of_its_factor() -> None:
    derived = {key: p for key, p in TABLE.prices.items() if p.factor != 1}
    assert derived, "the Valkey prices are derived from the Redis OSS ones"
    for key, price in derived.items():
        assert price.derived_by is not None, key
        assert price.derived_by.url.startswith("https://"), key
    broken = RAW | {"prices": {"x": RAW["prices"]["vpc.nat.hour"] | {"factor": "0.5"}}}
    with pytest.raises(PriceTableError, match=r"x: factor 0\.5 needs derivedBy"):
        parse_price_table(broken)


def test_a_file_in_a_repository_is_dated_by_when_its_figures_were_generated_not_when_it_was_read() -> None:
    """A golden file or generated table keeps the figures of the day it was (re)generated: dating it by the day
    this table read it would hide its age from the 180-day warning."""
    for source in TABLE.sources.values():
        if "/blob/" not in source.url:
            continue
        assert source.date_meaning == "generated", f"{source.id}: dated '{source.date_meaning}', not 'generated'"
        assert source.read is None or source.date < source.read, f"{source.id}: dated the day it was read"
        assert source.date <= dt.date(2026, 1, 19), f"{source.id}: {source.date} is later than any generation known"


def test_every_price_and_allowance_has_a_source_with_a_date_and_an_address() -> None:
    for item in [*TABLE.prices.values(), *TABLE.allowances.values()]:
        assert item.source.url.startswith("https://"), item.key
        assert item.source.date <= dt.date.fromisoformat(TABLE.version), f"{item.key}: dated after the table"
    used = {p.source.id for p in TABLE.prices.values()} | {a.source.id for a in TABLE.allowances.values()}
    used |= {p.derived_by.id for p in TABLE.prices.values() if p.derived_by is not None}
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


def test_the_age_warning_counts_the_prices_an_estimate_used_not_the_whole_table() -> None:
    fresh_day = dt.date(2026, 1, 20)  # the EC2 list is fresh, the infracost golden files are not
    assert TABLE.stale(fresh_day), "the table holds old prices"
    assert TABLE.stale_warning(fresh_day, ["ec2.instance.c7g.xlarge"]) is None
    warning = TABLE.stale_warning(fresh_day, ["ec2.instance.c7g.xlarge", "vpc.nat.hour", "vpc.nat.hour"])
    assert warning is not None
    assert warning.startswith("1 of the 2 prices this estimate used are older than 180 days (1 from infracost-nat")


def test_valkey_nodes_are_derived_from_the_redis_node_the_source_prints() -> None:
    for key, price in TABLE.prices.items():
        if key.startswith("elasticache.valkey."):
            redis = TABLE.get(key.replace(".valkey.", ".redis."))
            assert price.usd == redis.usd * Decimal("0.8"), key
            assert (price.printed, price.figure, price.factor) == (redis.printed, redis.figure, Decimal("0.8")), key
            assert price.derived_by is not None, key
            assert "20% lower cost per node" in price.derived_by.note, key


def test_the_common_graviton_and_intel_sizes_are_priced() -> None:
    for family in ("c7g", "m7g", "c6g", "m6g", "r7g"):
        for size in ("medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge"):
            assert TABLE.find(f"ec2.instance.{family}.{size}") is not None, f"{family}.{size}"
    for family in ("c7i", "m7i"):
        for size in ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge"):
            assert TABLE.find(f"ec2.instance.{family}.{size}") is not None, f"{family}.{size}"
    assert TABLE.get("ec2.instance.c7g.4xlarge").usd == Decimal("0.58")
