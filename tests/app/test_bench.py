"""The load test's own logic (statistics, options, the loopback guard), without running any load."""

import argparse
import json
from pathlib import Path

import pytest

from bench.compare import DEFAULT_OUT
from bench.options import parse_steps, parse_think_time, require_loopback
from bench.processes import REPO_ROOT
from bench.profile import top_functions
from bench.stats import (
    CacheTimeline,
    Step,
    hit_ratio,
    max_error_free_users,
    percentile,
    recovery_seconds,
    saturation_point,
)

REFERENCE = REPO_ROOT / "bench" / "results" / "compare.json"


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


def step(users: int, rps: float, p95: float, errors: int = 0) -> dict[str, object]:
    return {"users": users, "rps": rps, "p95_ms": p95, "errors": errors, "requests": 100}


def test_the_saturation_point_is_the_fastest_step_within_the_goal() -> None:
    steps = [step(8, 900, 20), step(16, 1500, 60), step(32, 1700, 150), step(64, 1800, 320), step(128, 2000, 90, 3)]
    point = saturation_point(steps, 200)
    assert point is not None
    assert (point["users"], point["rps"]) == (32, 1700), "p95 over the bound (64) and errors (128) disqualify"
    assert saturation_point([step(8, 10, 500)], 200) is None


def test_recovery_is_counted_from_redis_accepting_connections() -> None:
    # 0.5 s buckets: 90% hits before the outage at t=100, bypasses during it, Redis back at t=110, then misses
    # while the cache refills and hits again from t=112.
    series: list[dict[str, float]] = []
    for index in range(180, 240):
        at = index * 0.5
        if at < 100:
            series.append({"at": at, "hit": 9, "miss": 1})
        elif at < 110:
            series.append({"at": at, "bypass": 10})
        elif at < 112:
            series.append({"at": at, "miss": 8, "hit": 2})
        else:
            series.append({"at": at, "hit": 9, "miss": 1})
    result = recovery_seconds(series, outage_start=100, redis_back=110)
    assert result["baseline_hit_ratio"] == 0.9
    assert result["recovered_after_seconds"] == 2.0
    never = [bucket for bucket in series if bucket["at"] < 112]
    assert recovery_seconds(never, outage_start=100, redis_back=110)["recovered_after_seconds"] is None


def test_the_cache_timeline_buckets_answers_by_wall_time() -> None:
    timeline = CacheTimeline(bucket_seconds=0.5)
    for at, source in ((10.1, "hit"), (10.4, "hit"), (10.6, "miss"), (11.2, "bypass")):
        timeline.record(at, source)
    assert timeline.series() == [{"at": 10.0, "hit": 2}, {"at": 10.5, "miss": 1}, {"at": 11.0, "bypass": 1}]
    assert hit_ratio(timeline.series()) == 0.5


def test_profile_summary_counts_each_function_once_per_stack() -> None:
    collapsed = "main;serve;handle;log 30\nmain;serve;handle 50\nmain;idle 20\nmain;serve;log;log 10\n"
    top = dict(top_functions(collapsed))
    assert top["main"] == 100.0
    assert top["serve"] == 81.8
    assert top["log"] == 36.4, "a recursive frame is counted once per stack"


def test_new_runs_are_written_to_build_not_over_the_committed_reference() -> None:
    """Issue 13: `python -m bench.compare` overwrote bench/results/compare.json."""
    assert DEFAULT_OUT.parts[-3:] == ("build", "bench", "compare.json")
    assert REFERENCE.exists(), "the committed reference stays in bench/results/"
    reference = json.loads(REFERENCE.read_text())
    assert reference["command"].startswith("python -m bench.compare")
    assert reference["machine"]["cpus"] >= 1
    assert reference["started_at"]


def test_the_ceiling_apps_answer_like_the_health_route() -> None:
    import asyncio

    import httpx

    from bench.ceiling_apps import one_route_fastapi, raw_asgi

    async def get(app: object) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            return await client.get("/api/health")

    for app in (one_route_fastapi, raw_asgi):
        response = asyncio.run(get(app))
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert response.headers["cache-control"] == "no-store"


def test_the_benchmarks_app_environment_is_one_production_settings_accept(monkeypatch: pytest.MonkeyPatch) -> None:
    # The benchmark runs the app in production mode from this environment: a setting the app renamed (JWT_SECRET
    # became JWT_KEYS) would otherwise only show as a server that never starts, minutes into a run.
    from app.core.config import Settings
    from bench.setups import app_env

    for name, value in app_env("mongodb://127.0.0.1:1/bench", "redis://127.0.0.1:2/0").items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.is_production
    assert settings.jwt_current_kid == "bench"


def test_the_cpu_ceiling_client_sends_every_request_over_its_connections_and_refuses_a_non_200() -> None:
    import asyncio

    from bench.ceiling_cpu import _REQUEST, load

    async def run(status: bytes, requests: int, connections: int) -> tuple[int, int]:
        seen = {"requests": 0, "connections": 0}

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen["connections"] += 1
            while await reader.readuntil(b"\r\n\r\n"):
                seen["requests"] += 1
                writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 15\r\n\r\n" + b'{"status":"ok"}')
                if reader.at_eof():
                    break

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await answer(reader, writer)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            await asyncio.wait_for(load(port, requests, connections, _REQUEST), timeout=60)
        return seen["requests"], seen["connections"]

    assert asyncio.run(run(b"200 OK", 103, 4)) == (103, 4)
    with pytest.raises(RuntimeError, match="not a 200"):
        asyncio.run(run(b"503 Service Unavailable", 5, 1))


def test_the_cpu_ceiling_serves_an_earlier_app_from_its_commit(tmp_path: Path) -> None:
    import subprocess

    from bench.ceiling_cpu import extract_app

    tree = extract_app("HEAD~1", tmp_path)
    committed = subprocess.run(
        ["git", "show", "HEAD~1:app/main.py"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert (tree / "app" / "main.py").read_text() == committed
    assert (tree / "app" / "gunicorn.conf.py").is_file()
    assert not (tree / "bench").exists(), "only app/ is served from the commit"
