"""The versioned price table shipped in this package (`prices.yaml`): every price a `Decimal` with its unit,
region, source and date. Nothing here rounds: rounding is for display only (`infra.cost.money`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PRICES_FILE = "prices.yaml"


class PriceTableError(Exception):
    """The price table file is malformed: the message names the entry and the problem."""


class MissingPriceError(LookupError):
    """No price for a key: the resource is reported unpriced, never priced at $0."""


def _decimal(value: object) -> Decimal:
    # Prices are strings in the file so that no binary float ever stands between the source and the Decimal.
    if not isinstance(value, str):
        raise ValueError(f"must be a quoted string (got {value!r}), so it reaches Decimal without a float")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"'{value}' is not a number") from None


_Strict = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class _SourceEntry(BaseModel):
    model_config = _Strict
    title: str
    url: str
    date: dt.date
    date_meaning: str = Field(alias="dateMeaning")
    read: dt.date | None = None
    confidence: str = ""
    note: str = ""


class _PriceEntry(BaseModel):
    model_config = _Strict
    usd: Decimal
    unit: str
    source: str
    printed: str
    figure: Decimal
    per: Decimal
    factor: Decimal = Decimal(1)
    derived_by: str | None = Field(default=None, alias="derivedBy")
    note: str = ""

    @field_validator("usd", "figure", "per", "factor", mode="before")
    @classmethod
    def _exact(cls, value: object) -> Decimal:
        return _decimal(value)


class _AllowanceEntry(BaseModel):
    model_config = _Strict
    quantity: Decimal
    unit: str
    source: str
    printed: str

    @field_validator("quantity", mode="before")
    @classmethod
    def _exact(cls, value: object) -> Decimal:
        return _decimal(value)


class _TableFile(BaseModel):
    model_config = _Strict
    version: str
    currency: str
    region: str
    hours_per_month: Decimal = Field(alias="hoursPerMonth")
    max_age_days: int = Field(alias="maxAgeDays", gt=0)
    sources: dict[str, _SourceEntry]
    allowances: dict[str, _AllowanceEntry]
    prices: dict[str, _PriceEntry]

    @field_validator("hours_per_month", mode="before")
    @classmethod
    def _exact(cls, value: object) -> Decimal:
        return _decimal(value)


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    url: str
    date: dt.date
    date_meaning: str
    """When the source's figures were produced: generated (a generated file or a regenerated test output),
    effective (the day a price took effect), published-or-read (a page that prints no date: the day it was read,
    the latest its figures can be)."""
    note: str
    read: dt.date | None = None
    """The day this table read the source, when it differs from `date`."""
    confidence: str = ""
    """Empty for a first-party or generated source; otherwise why a price from it deserves less trust."""


@dataclass(frozen=True)
class Price:
    key: str
    usd: Decimal
    unit: str
    region: str
    source: Source
    printed: str
    """The source's own text, verbatim."""
    figure: Decimal
    """The number in `printed`: `usd * per` must equal `figure * factor` to the figure's last printed digit."""
    per: Decimal
    note: str
    factor: Decimal = Decimal(1)
    """1 for a price the source prints; otherwise the price is derived from the printed figure (Valkey nodes: 0.8
    x the Redis OSS node the source prints), and `derived_by` names the source that states the factor."""
    derived_by: Source | None = None

    def age_days(self, today: dt.date) -> int:
        return (today - self.source.date).days

    @property
    def citation(self) -> str:
        return f"{self.source.id} ({self.source.date.isoformat()})"


@dataclass(frozen=True)
class Allowance:
    key: str
    quantity: Decimal
    unit: str
    source: Source
    printed: str


@dataclass(frozen=True)
class PriceTable:
    version: str
    currency: str
    region: str
    hours_per_month: Decimal
    max_age_days: int
    sources: Mapping[str, Source]
    prices: Mapping[str, Price]
    allowances: Mapping[str, Allowance]

    def get(self, key: str) -> Price:
        try:
            return self.prices[key]
        except KeyError:
            raise MissingPriceError(key) from None

    def find(self, key: str) -> Price | None:
        return self.prices.get(key)

    def allowance(self, key: str) -> Allowance:
        return self.allowances[key]

    def stale(self, today: dt.date, keys: Iterable[str] | None = None) -> list[Price]:
        """Prices (of `keys`, else all) whose figures are older than `max_age_days`: re-read their sources before
        trusting an estimate that uses them."""
        chosen = self.prices.values() if keys is None else [self.prices[k] for k in dict.fromkeys(keys)]
        return [p for p in chosen if p.age_days(today) > self.max_age_days]

    def stale_warning(self, today: dt.date, keys: Iterable[str] | None = None) -> str | None:
        """The warning for the prices an estimate used (`keys`), or for the whole table when `keys` is None."""
        considered = len(self.prices) if keys is None else len(set(keys))
        old = self.stale(today, keys)
        if not old:
            return None
        by_source: dict[str, int] = {}
        for price in old:
            by_source[price.citation] = by_source.get(price.citation, 0) + 1
        listed = ", ".join(f"{count} from {citation}" for citation, count in sorted(by_source.items()))
        which = "prices in the table" if keys is None else "prices this estimate used"
        return (
            f"{len(old)} of the {considered} {which} are older than {self.max_age_days} days ({listed}); "
            f"re-read their sources and update infra/cost/{PRICES_FILE}"
        )


def parse_price_table(document: Any, origin: str = PRICES_FILE) -> PriceTable:
    try:
        parsed = _TableFile.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise PriceTableError(f"{origin}: {problems}") from None
    sources = {
        key: Source(key, s.title, s.url, s.date, s.date_meaning, s.note, s.read, s.confidence)
        for key, s in parsed.sources.items()
    }

    def source_of(entry_key: str, source_id: str) -> Source:
        if source_id not in sources:
            raise PriceTableError(f"{origin}: {entry_key}: unknown source '{source_id}'; known: {sorted(sources)}")
        return sources[source_id]

    def derivation_of(entry_key: str, entry: _PriceEntry) -> Source | None:
        if entry.factor == 1 and entry.derived_by is None:
            return None
        if entry.derived_by is None:
            raise PriceTableError(f"{origin}: {entry_key}: factor {entry.factor} needs derivedBy (the source of it)")
        return source_of(entry_key, entry.derived_by)

    prices = {
        key: Price(
            key=key,
            usd=p.usd,
            unit=p.unit,
            region=parsed.region,
            source=source_of(key, p.source),
            printed=p.printed,
            figure=p.figure,
            per=p.per,
            note=p.note,
            factor=p.factor,
            derived_by=derivation_of(key, p),
        )
        for key, p in parsed.prices.items()
    }
    allowances = {
        key: Allowance(key, a.quantity, a.unit, source_of(key, a.source), a.printed)
        for key, a in parsed.allowances.items()
    }
    return PriceTable(
        version=parsed.version,
        currency=parsed.currency,
        region=parsed.region,
        hours_per_month=parsed.hours_per_month,
        max_age_days=parsed.max_age_days,
        sources=sources,
        prices=prices,
        allowances=allowances,
    )


def load_price_table(path: Path | None = None) -> PriceTable:
    """The packaged table, or the file at `path` (tests, what-if price changes)."""
    if path is None:
        return _packaged_table()
    return parse_price_table(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))


@cache
def _packaged_table() -> PriceTable:
    text = resources.files("infra.cost").joinpath(PRICES_FILE).read_text(encoding="utf-8")
    return parse_price_table(yaml.safe_load(text))
