"""The load test's own logic (statistics, options, the loopback guard), without running any load."""

import argparse

import pytest

from bench.options import parse_steps, parse_think_time, require_loopback
from bench.stats import Step, max_error_free_users, percentile


def test_percentiles_are_nearest_rank() -> None:
    values = [float(value) for value in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) is None


def test_a_step_summarises_each_endpoint_and_the_total() -> None:
    step = Step(users=100, started=0.0, ended=10.0)
    for latency in range(1, 101):
        step.record("/api/health", float(latency), None)
    step.record("/api/health/ready", 900.0, RuntimeError("503"))
    summary = step.summary()
    assert summary["requests"] == 101
    assert summary["rps"] == 10.1
    assert summary["errors"] == 1
    health = summary["endpoints"]["/api/health"]
    assert (health["p50_ms"], health["p95_ms"], health["p99_ms"], health["errors"]) == (50.0, 95.0, 99.0, 0)
    ready = summary["endpoints"]["/api/health/ready"]
    assert ready["error_rate"] == 1.0
    assert ready["error_kinds"] == {"RuntimeError": 1}


def test_max_error_free_users_stops_at_the_first_step_with_errors() -> None:
    steps = [
        {"users": 100, "requests": 10, "errors": 0},
        {"users": 500, "requests": 10, "errors": 0},
        {"users": 750, "requests": 10, "errors": 2},
        {"users": 1000, "requests": 10, "errors": 0},
    ]
    assert max_error_free_users(steps) == 500
    assert max_error_free_users(steps[:2]) == 500
    assert max_error_free_users([{"users": 100, "requests": 10, "errors": 1}]) == 0


@pytest.mark.parametrize("target", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"])
def test_loopback_targets_are_accepted(target: str) -> None:
    require_loopback(target)


@pytest.mark.parametrize("target", ["http://10.0.0.5:8000", "http://192.168.1.1", "https://8.8.8.8", "no-host"])
def test_other_targets_are_refused_without_allow_remote(target: str) -> None:
    with pytest.raises(SystemExit):
        require_loopback(target)


def test_steps_must_increase() -> None:
    assert parse_steps("100,500,1000") == (100, 500, 1000)
    for bad in ("", "500,100", "0,10", "a,b"):
        with pytest.raises((argparse.ArgumentTypeError, ValueError)):
            parse_steps(bad)


def test_think_time_is_min_max() -> None:
    assert parse_think_time("0.5:1.5") == (0.5, 1.5)
    assert parse_think_time("1") == (1.0, 1.0)
    for bad in ("2:1", "x:y", "-1:1"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_think_time(bad)
