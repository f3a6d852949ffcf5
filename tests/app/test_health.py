"""The health endpoints against a real MongoDB and Redis."""

import asyncio
import inspect
import time

import httpx
import pytest
from fastapi.responses import JSONResponse
from pymongo import AsyncMongoClient
from starlette.datastructures import MutableHeaders

from app.api.deps import get_readiness
from app.api.routes.health import health as health_endpoint
from app.core.config import Settings
from app.main import create_app
from app.schemas.health import HealthOut
from app.services.readiness import ReadinessProbe
from tests.app.support import (
    HANG_GUARD_SECONDS,
    TEST_HEALTH_TOKEN,
    TEST_JWT_SECRET,
    DependencySpy,
    ServerProcess,
    free_port,
    health_token_header,
    make_settings,
    serve,
)

pytestmark = pytest.mark.anyio


async def test_health_answers_without_touching_any_dependency(s3: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on these ports, and a spy counts every use of MongoDB, Redis and the readiness probe:
    # /api/health must answer without making a single one of them (the property, not a timing).
    spy = DependencySpy.install(monkeypatch)
    settings = make_settings(free_port(), free_port())
    app = create_app(settings)
    async with serve(app) as client:
        responses = [await client.get("/api/health") for _ in range(20)]
    assert {response.status_code for response in responses} == {200}
    assert responses[0].json() == {"status": "ok"}
    assert responses[0].headers["cache-control"] == "no-store"
    assert spy.calls == [], f"/api/health used a dependency: {spy.calls}"
    # And it cannot start to: the endpoint takes no parameter, so FastAPI injects no dependency into it.
    assert inspect.signature(health_endpoint).parameters == {}


async def test_health_answers_the_prebuilt_body_and_headers_a_json_response_would(
    s3: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The constant response must be byte for byte what the route answered as a JSONResponse, match its
    # documented model, with CORS and the request id added by the middlewares.
    settings = make_settings(free_port(), free_port(), cors_origins=["https://app.example"])
    expected = JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})
    async with serve(create_app(settings)) as client:
        first, second = [await client.get("/api/health", headers={"Origin": "https://app.example"}) for _ in range(2)]
    for response in (first, second):
        assert response.content == expected.body
        assert HealthOut.model_validate_json(response.content) == HealthOut(status="ok")
        sent = [(name, value) for name, value in response.headers.raw if name not in (b"x-request-id", b"vary")]
        cors = [
            (b"access-control-allow-origin", b"https://app.example"),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-expose-headers", b"X-Request-ID, X-Cache"),
        ]
        assert sorted(sent) == sorted([*expected.raw_headers, *cors])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_middleware_adding_to_one_health_response_leaves_the_next_alone() -> None:
    # A middleware may add headers in place (MutableHeaders(scope=message) does): the prebuilt list must not
    # collect them from one request to the next.
    first = await health_endpoint()
    MutableHeaders(raw=first.raw_headers).append("x-added", "once")
    second = await health_endpoint()
    assert [name for name, _ in second.raw_headers] == [b"cache-control", b"content-length", b"content-type"]


async def test_the_dependency_spy_sees_mongodb_redis_and_the_probe(
    settings: Settings, s3: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # So that the test above cannot pass because the spy is blind.
    spy = DependencySpy.install(monkeypatch)
    async with serve(create_app(settings)) as client:
        assert (await client.get("/api/health/ready")).status_code == 200
    assert "readiness.report" in spy.calls
    assert "mongodb ping" in spy.calls
    assert "redis PING" in spy.calls


async def test_live_reports_the_process(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health/live")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "alive"
    assert body["pid"] > 0
    assert body["uptime_seconds"] >= 0


async def test_ready_when_mongodb_and_redis_answer(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["mongodb"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "ok"
    assert body["checks"]["mongodb"]["latency_ms"] >= 0


async def test_ready_is_503_naming_mongodb_when_it_is_unreachable(redis_server: ServerProcess, s3: None) -> None:
    # The driver's own server selection would wait ten minutes here; only the readiness deadline can end the
    # probe, so an answer at all proves that deadline applied. The guard is a hang detector, not a timing.
    settings = make_settings(
        free_port(),
        redis_server.port,
        mongo_server_selection_timeout_ms=600_000,
        readiness_timeout_seconds=0.3,
        readiness_cache_seconds=0,
    )
    async with serve(create_app(settings)) as client:
        first = await asyncio.wait_for(client.get("/api/health/ready"), timeout=HANG_GUARD_SECONDS)
        assert first.status_code == 200, "one failed ping is not enough (READINESS_FAILURE_THRESHOLD=2)"
        response = first
        for _ in range(20):  # each call is one more failed (or, on a stalled machine, inconclusive) ping
            response = await asyncio.wait_for(client.get("/api/health/ready"), timeout=HANG_GUARD_SECONDS)
            if response.status_code == 503:
                break
        live = await client.get("/api/health/live")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "MongoDB" in body["detail"]
    assert body["checks"]["mongodb"]["status"] == "down"
    assert body["checks"]["mongodb"]["consecutive_failures"] >= 2
    assert body["checks"]["redis"]["status"] == "ok"
    assert live.status_code == 200


async def test_a_saturated_worker_with_mongodb_up_stays_ready(settings: Settings, s3: None) -> None:
    """CPU saturation, the way a worker at 1,000 connections sees it: the event loop is busy for long stretches
    (here 0.2 s blocks, four times the 50 ms ping deadline), so pings come back late or time out although
    MongoDB is fine. No number of such pings makes /ready say 503. (With the real driver a late ping often
    completes rather than times out; the inconclusive rule itself is proven with a scripted ping in
    test_readiness.py.)"""
    saturated = settings.model_copy(update={"readiness_timeout_seconds": 0.05, "readiness_cache_seconds": 0})
    stop = asyncio.Event()

    async def hog_the_loop() -> None:
        while not stop.is_set():
            time.sleep(0.2)  # noqa: ASYNC251 - the point: the loop cannot run anything else meanwhile
            await asyncio.sleep(0)

    async with serve(create_app(saturated)) as client:
        assert (await client.get("/api/health/ready")).status_code == 200  # the driver is connected
        hog = asyncio.ensure_future(hog_the_loop())
        try:
            answers = [await client.get("/api/health/ready") for _ in range(6)]
        finally:
            stop.set()
            await hog
        detailed = (await client.get("/api/health/detailed", headers=health_token_header())).json()
    assert {answer.status_code for answer in answers} == {200}
    states = {answer.json()["checks"]["mongodb"]["status"] for answer in answers}
    assert states <= {"ok", "inconclusive"}
    assert detailed["readiness"]["failure_threshold"] == 2


async def test_ready_is_degraded_but_200_when_redis_is_unreachable(mongo_server: ServerProcess, s3: None) -> None:
    # Nothing listens on the Redis port.
    async with serve(create_app(make_settings(mongo_server.port, free_port()))) as client:
        response = await client.get("/api/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert "Redis" in body["detail"]
    assert body["checks"]["redis"]["status"] == "down"
    assert body["checks"]["redis"]["error"] == "ConnectionError"


async def test_ready_without_a_cache_reports_redis_disabled(settings: Settings, s3: None) -> None:
    async with serve(create_app(settings.model_copy(update={"cache_enabled": False}))) as client:
        response = await client.get("/api/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"]["status"] == "disabled"


async def test_a_probe_storm_costs_one_probe(client: httpx.AsyncClient) -> None:
    responses = await asyncio.gather(*(client.get("/api/health/ready") for _ in range(200)))
    assert {response.status_code for response in responses} == {200}
    detailed = await client.get("/api/health/detailed", headers=health_token_header())
    # One probe for the whole storm, plus the fresh one /detailed makes.
    assert detailed.json()["readiness"]["probes_run"] == 2


async def test_detailed_requires_the_token(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/health/detailed")
    wrong = await client.get("/api/health/detailed", headers={"X-Health-Token": "not-the-token"})
    assert missing.status_code == 401
    assert wrong.status_code == 401
    assert "X-Health-Token" in missing.json()["detail"]


async def test_detailed_reports_dependencies_versions_pools_and_cache(client: httpx.AsyncClient) -> None:
    await client.get("/api/posts", params={"user_id": "detailed-user"})
    await client.get("/api/posts", params={"user_id": "detailed-user"})
    response = await client.get("/api/health/detailed", headers=health_token_header())
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["version"]
    assert body["uptime_seconds"] >= 0
    assert set(body["dependencies"]) == {"mongodb", "redis"}
    for dependency in body["dependencies"].values():
        assert dependency["status"] == "ok"
        assert dependency["latency_ms"] >= 0
    assert body["pools"]["mongodb"]["open_connections"] >= 1
    assert body["pools"]["mongodb"]["max_pool_size"] == 100
    assert body["pools"]["redis"]["open_connections"] >= 1
    assert body["cache"]["misses"] == 1
    assert body["cache"]["hits"] == 1
    assert body["cache"]["breaker"]["state"] == "closed"
    # Secrets never travel in a response, even an authenticated one.
    assert TEST_HEALTH_TOKEN not in response.text
    assert TEST_JWT_SECRET not in response.text


async def test_readiness_can_be_swapped_through_dependency_overrides(settings: Settings, s3: None) -> None:
    """The override hook the tests rely on: a probe pointed at a MongoDB that is not there."""
    app = create_app(settings)
    async with serve(app) as client:
        unreachable = AsyncMongoClient(f"mongodb://127.0.0.1:{free_port()}/x", serverSelectionTimeoutMS=200)
        probe = ReadinessProbe(unreachable, None, timeout_seconds=0.2, cache_seconds=1.0, failure_threshold=1)

        async def unreachable_probe() -> ReadinessProbe:
            return probe

        app.dependency_overrides[get_readiness] = unreachable_probe
        try:
            overridden = await client.get("/api/health/ready")
        finally:
            app.dependency_overrides.clear()
            await unreachable.close()
        restored = await client.get("/api/health/ready")
    assert overridden.status_code == 503
    assert restored.status_code == 200
