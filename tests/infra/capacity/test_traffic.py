"""The traffic model (pure, no mocks): each tier's file validates, and the functions the sizing and the bill use
(peak and average rps, monthly requests and GB, the four ALB LCU dimensions) give the arithmetic they document."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.capacity.alb_lcu import (
    ACTIVE_CONNECTIONS_PER_LCU,
    NEW_CONNECTIONS_PER_SECOND_PER_LCU,
    PROCESSED_GB_PER_HOUR_PER_LCU,
)
from infra.capacity.traffic import (
    BYTES_PER_GB,
    SCHEMA_VERSION,
    TIERS,
    EndpointClass,
    TrafficModelError,
    average_lcu,
    average_rps,
    lcu_at,
    mean_response_bytes,
    model_path,
    monthly_access_log_gb,
    monthly_media_gb,
    monthly_requests,
    monthly_requests_of,
    monthly_response_gb,
    parse_traffic_model,
    peak_database_operations_per_second,
    peak_lcu,
    peak_rps,
    traffic_model,
)

REPO_ROOT = Path(__file__).resolve().parents[3]


def raw(tier: str) -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / model_path(tier)).read_text(encoding="utf-8"))


def with_value(document: dict[str, Any], dotted: str, value: object) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    node = changed
    *parents, last = dotted.split(".")
    for key in parents:
        node = node[key]
    node[last] = {"value": value, "basis": "test: a changed figure"} if isinstance(node[last], dict) else value
    return changed


@pytest.mark.parametrize("tier", TIERS)
def test_each_tier_s_file_is_its_own_schema_versioned_model_with_a_basis_for_every_figure(tier: str) -> None:
    model = traffic_model(tier)
    assert model.tier == tier
    assert model.document.schema_version == SCHEMA_VERSION
    figures = model.figures()
    assert len(figures) > 40
    for key, figure in figures.items():
        assert figure.basis.strip(), f"tier {tier}: {key} has no basis"
    measured = [key for key, figure in figures.items() if figure.basis.startswith("measured")]
    assert "responseBytes.cachedRead" in measured, "the response sizes come from the benchmark"


def test_the_tiers_share_the_user_behaviour_and_differ_in_users() -> None:
    a, b, c = (traffic_model(tier) for tier in TIERS)
    assert a.concurrent_users == b.concurrent_users == 100_000
    assert c.concurrent_users == 20_000, "the top of the seed's 10-20K"
    for key in ("users.requestsPerMinute", "users.peakToAverage", *(f"mix.{e.value}" for e in EndpointClass)):
        assert a.figures()[key].value == b.figures()[key].value == c.figures()[key].value, key


def test_peak_and_average_requests_per_second() -> None:
    model = traffic_model("A")
    # 100,000 users x 3 requests a minute / 60 s; the month's average hour is a third of the peak's.
    assert peak_rps(model) == 5_000
    assert average_rps(model) == Decimal(5_000) / 3
    assert peak_rps(traffic_model("C")) == 1_000


def test_monthly_requests_and_gigabytes() -> None:
    model = traffic_model("A")
    assert monthly_requests(model) == Decimal(5_000) / 3 * 3600 * 730
    assert round(monthly_requests(model)) == 4_380_000_000
    assert sum(monthly_requests_of(model, e) for e in EndpointClass) == monthly_requests(model)
    document = model.document
    weighted = sum(document.mix.of(e).value * document.response_bytes.of(e).value for e in EndpointClass)
    assert mean_response_bytes(model) == weighted
    assert monthly_response_gb(model) == monthly_requests(model) * weighted / BYTES_PER_GB
    line = document.logs.access_line_bytes.value
    assert monthly_access_log_gb(model) == monthly_requests(model) * line / BYTES_PER_GB
    # Media: average users x downloads a minute x 60 x 730 x 100 KB.
    media = monthly_media_gb(model)
    assert media == Decimal(100_000) / 3 * Decimal("0.2") * 60 * 730 * 100 * 1000 / BYTES_PER_GB


def test_peak_database_operations_are_the_reads_that_miss_and_the_writes() -> None:
    model = traffic_model("A")
    mix = model.document.mix
    expected = 5_000 * (mix.database_read.value + mix.write.value)
    assert peak_database_operations_per_second(model) == expected


def test_the_four_lcu_dimensions_and_the_largest_bills() -> None:
    model = traffic_model("A")
    peak = peak_lcu(model)
    # 100,000 connections of 300 s: 333 new a second (25 an LCU), 100,000 open (3,000 an LCU).
    assert peak.new_connections == Decimal(100_000) / 300 / NEW_CONNECTIONS_PER_SECOND_PER_LCU
    assert peak.active_connections == Decimal(100_000) / ACTIVE_CONNECTIONS_PER_LCU
    bytes_per_hour = 5_000 * 3600 * (mean_response_bytes(model) + model.document.request_bytes.value)
    assert peak.processed_bytes == bytes_per_hour / BYTES_PER_GB / PROCESSED_GB_PER_HOUR_PER_LCU
    assert peak.rule_evaluations == 0, "one rule a request: the first 10 are free"
    assert peak.billed == max(peak.new_connections, peak.active_connections, peak.processed_bytes)
    assert peak.dominant == "processed bytes"
    assert average_lcu(model).billed == pytest.approx(peak.billed / 3)


def test_rule_evaluations_bill_beyond_ten_a_request() -> None:
    model = parse_traffic_model(with_value(raw("A"), "connections.ruleEvaluationsPerRequest", 12), "test")
    assert lcu_at(model, Decimal(1_000), Decimal(0)).rule_evaluations == Decimal(1_000) * 2 / 1_000


def test_the_bill_follows_the_users() -> None:
    model = traffic_model("A")
    half = model.with_users(50_000)
    assert peak_rps(half) == peak_rps(model) / 2
    assert monthly_response_gb(half) == pytest.approx(monthly_response_gb(model) / 2)
    assert peak_lcu(half).billed == pytest.approx(peak_lcu(model).billed / 2)


@pytest.mark.parametrize(
    ("dotted", "value", "message"),
    [
        ("mix.write", "0.5", "the shares add up to"),
        ("media.cdnHitRatio", "1.5", "is not a share between 0 and 1"),
        ("users.peakToAverage", "0.5", "the peak is never below the average"),
        ("users.concurrentAtPeak", "0", "must be positive"),
        ("schemaVersion", 2, "schemaVersion 2 is not supported"),
    ],
)
def test_a_model_that_does_not_add_up_is_refused_naming_the_file_and_the_figure(
    dotted: str, value: object, message: str
) -> None:
    with pytest.raises(TrafficModelError, match=message) as caught:
        parse_traffic_model(with_value(raw("A"), dotted, value), "tier-A.yaml")
    assert str(caught.value).startswith("tier-A.yaml: ")


def test_a_figure_without_a_basis_or_a_file_of_another_tier_is_refused() -> None:
    document = raw("A")
    document["users"]["requestsPerMinute"] = {"value": 3}
    with pytest.raises(TrafficModelError, match=r"users\.requestsPerMinute\.basis"):
        parse_traffic_model(document, "tier-A.yaml")
    with pytest.raises(TrafficModelError, match="the file says 'A', but it is tier B's model"):
        parse_traffic_model(raw("A"), "tier-A.yaml", "B")
    with pytest.raises(TrafficModelError, match="no traffic model for tier 'D'"):
        traffic_model("D")
