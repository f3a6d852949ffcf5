"""The measured throughput the sizing uses is the committed benchmark's figure, dated and reproducible, and the
traffic model's measured sizes are that run's (no mocks: the committed reference itself)."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from infra.capacity.throughput import COMMAND, MEASURED_ON, REFERENCE, REQUESTS_PER_VCPU_SECOND
from infra.capacity.traffic import TIERS, EndpointClass, traffic_model
from infra.planning.compute.scaling import CPU_TARGET_PERCENT, REQUESTS_PER_VCPU_PER_SECOND

REPO_ROOT = Path(__file__).resolve().parents[3]


def whole(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def reference() -> dict:
    return json.loads((REPO_ROOT / REFERENCE).read_text(encoding="utf-8"))


def test_the_sizing_figure_is_the_committed_run_s() -> None:
    run = reference()
    capacity = run["capacity"]
    assert Decimal(str(capacity["requests_per_vcpu_second"])) == REQUESTS_PER_VCPU_SECOND
    assert run["started_at"].startswith(MEASURED_ON)
    assert COMMAND in run["command"]
    assert run["machine"]["cpus"] >= 1, "the core count the figure was measured on"
    assert run["machine"]["load_average_at_start"], "the machine's load at the time"
    busiest = capacity["at_step"]
    assert busiest["p95_ms"] < 200
    assert busiest["errors"] == 0
    assert busiest["generator_cpu_percent_of_one_core"] > 0, "the load generator's own CPU"


def test_the_figure_is_the_app_s_cpu_alone_with_the_test_database_reported_apart() -> None:
    capacity = reference()["capacity"]
    assert set(capacity["app_cpu_us_per_request_by_class"]) == {e.value for e in EndpointClass}
    assert capacity["test_database_cpu_us_per_request_mix"] > 0
    cached = capacity["app_cpu_us_per_request_by_class"]["cachedRead"]
    assert cached < capacity["app_cpu_us_per_request_by_class"]["databaseRead"], "the cache saves the app's CPU too"


def test_the_model_s_measured_sizes_are_the_run_s() -> None:
    capacity = reference()["capacity"]
    for tier in TIERS:
        document = traffic_model(tier).document
        for endpoint in (EndpointClass.CACHED_READ, EndpointClass.DATABASE_READ, EndpointClass.UPLOAD_PRESIGN):
            measured = whole(capacity["response_bytes"][endpoint.value])
            assert document.response_bytes.of(endpoint).value == measured, (tier, endpoint)
        assert document.logs.access_line_bytes.value == whole(capacity["access_line_bytes"])


def test_the_request_target_tracking_follows_the_measured_figure() -> None:
    assert int(REQUESTS_PER_VCPU_SECOND * int(CPU_TARGET_PERCENT) / 100) == REQUESTS_PER_VCPU_PER_SECOND
    assert REQUESTS_PER_VCPU_PER_SECOND != 100, "no longer the old benchmark's figure"
