"""Fault tests: real servers stopped (and hung) mid-test, by PID, while the app keeps serving.

- Redis stopped: the cached endpoint keeps answering 200 from MongoDB; Redis is called until the breaker's
  window holds enough failures (CACHE_BREAKER_MIN_CALLS), then skipped.
- MongoDB stopped: /api/health/ready turns 503 (naming MongoDB) after READINESS_FAILURE_THRESHOLD failed
  pings in a row, never on the first, while /live stays 200.
- Both restarted: /ready is 200 again.

Each test asserts what was called (the cache's counters, the probe's answers), never how long it took: how fast
the app notices and recovers is measured in bench/, where a loaded machine cannot fail a build.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from app.core.config import Settings
from app.main import create_app
from tests.app.support import (
    HANG_GUARD_SECONDS,
    ServerProcess,
    freeze_breaker_clock,
    health_token_header,
    make_settings,
    serve,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

POLL_INTERVAL_SECONDS = 0.05


async def wait_for(
    condition: Callable[[], Awaitable[bool]], *, within: float, interval: float = POLL_INTERVAL_SECONDS
) -> float:
    """Poll until condition() holds; return the seconds it took. Fails the test after `within` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if await condition():
            return time.monotonic() - started
        await asyncio.sleep(interval)
    pytest.fail(f"condition not met within {within} s")


async def cache_counters(client: httpx.AsyncClient) -> dict[str, Any]:
    return (await client.get("/api/health/detailed", headers=health_token_header())).json()["cache"]


async def seed_one_post(settings: Settings, user_id: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url.get_secret_value())
    try:
        await client.get_database(settings.mongo_database).posts.insert_one(
            {"user_id": user_id, "content": "hello", "status": "published", "created_at": datetime.now(UTC)}
        )
    finally:
        await client.close()


async def test_redis_stopped_mid_test_the_cached_read_answers_from_mongodb_without_waiting(
    mongo_server: ServerProcess, private_redis: ServerProcess, s3: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    breaker_clock = freeze_breaker_clock(monkeypatch)
    settings = make_settings(mongo_server.port, private_redis.port, cache_breaker_cooldown_seconds=5)
    await seed_one_post(settings, "fault-user")
    async with serve(create_app(settings)) as client:
        miss = await client.get("/api/posts", params={"user_id": "fault-user"})
        hit = await client.get("/api/posts", params={"user_id": "fault-user"})
        assert (miss.headers["x-cache"], hit.headers["x-cache"]) == ("miss", "hit")
        before = await cache_counters(client)

        private_redis.stop()

        during = [await client.get("/api/posts", params={"user_id": "fault-user"}) for _ in range(20)]
        assert {response.status_code for response in during} == {200}
        assert {response.headers["x-cache"] for response in during} == {"bypass"}
        assert {len(response.json()["items"]) for response in during} == {1}
        # The window already holds 3 successful calls (the miss's GET and SET, the hit's GET). Each lookup now
        # meets a refused connection (retried once, refused again): after 7 failures the window holds
        # min_calls (10) calls, 70% failed, over the 50% rate, so the breaker opens and the other 13 lookups
        # skip Redis entirely.
        after = await cache_counters(client)
        assert (settings.cache_breaker_min_calls, settings.cache_breaker_failure_rate) == (10, 0.5)
        assert after["errors"] - before["errors"] == 7
        assert after["bypassed"] - before["bypassed"] == 13
        assert after["breaker"]["state"] == "open"

        detailed = (await client.get("/api/health/detailed", headers=health_token_header())).json()
        assert detailed["status"] == "degraded"
        assert detailed["cache"]["breaker"]["times_opened"] >= 1

        await asyncio.sleep(settings.readiness_cache_seconds)
        ready = await client.get("/api/health/ready")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"

        private_redis.start()
        breaker_clock.advance(settings.cache_breaker_cooldown_seconds)

        async def cache_is_used_again() -> bool:
            response = await client.get("/api/posts", params={"user_id": "fault-user"})
            return response.status_code == 200 and response.headers["x-cache"] in ("hit", "miss")

        await wait_for(cache_is_used_again, within=HANG_GUARD_SECONDS)


async def test_a_hung_redis_costs_one_socket_timeout_per_cooldown(
    mongo_server: ServerProcess, private_redis: ServerProcess, s3: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_breaker_clock(monkeypatch)  # the cooldown never ends during the test, however slow the machine
    settings = make_settings(
        mongo_server.port, private_redis.port, cache_breaker_cooldown_seconds=30, cache_breaker_min_calls=2
    )
    await seed_one_post(settings, "hung-user")
    async with serve(create_app(settings)) as client:
        await client.get("/api/posts", params={"user_id": "hung-user"})
        before = await cache_counters(client)
        private_redis.pause()
        try:
            # Only the Redis client's socket timeout can end the first request (Redis is SIGSTOPped); the
            # guard turns a missing timeout into a failure instead of a hang.
            first = await asyncio.wait_for(
                client.get("/api/posts", params={"user_id": "hung-user", "page": 2}), timeout=HANG_GUARD_SECONDS
            )
            rest = [
                await client.get("/api/posts", params={"user_id": "hung-user", "page": page}) for page in range(3, 23)
            ]
            after = await cache_counters(client)
        finally:
            private_redis.resume()
    assert first.status_code == 200
    assert first.headers["x-cache"] == "bypass"
    assert {response.status_code for response in rest} == {200}
    assert {response.headers["x-cache"] for response in rest} == {"bypass"}
    # Two Redis calls timed out (min_calls=2, a timeout is not retried); the breaker then skipped Redis for the
    # other nineteen, without a call.
    assert after["errors"] - before["errors"] == 2
    assert after["bypassed"] - before["bypassed"] == 19


async def test_mongodb_stopped_ready_turns_503_after_failed_pings_live_stays_200_and_both_restarted_recover(
    private_mongo: ServerProcess, private_redis: ServerProcess, s3: None
) -> None:
    # Every /ready call probes (no reuse), so each call below is one ping.
    settings = make_settings(private_mongo.port, private_redis.port, readiness_cache_seconds=0)
    await seed_one_post(settings, "recovering-user")
    async with serve(create_app(settings)) as client:
        assert (await client.get("/api/health/ready")).status_code == 200

        private_mongo.stop()
        private_redis.stop()
        first = await asyncio.wait_for(client.get("/api/health/ready"), timeout=HANG_GUARD_SECONDS)
        assert first.status_code == 200, "one failed ping is not enough to take the instance out of rotation"
        assert first.json()["checks"]["mongodb"]["status"] in ("down", "inconclusive")

        async def unavailable() -> bool:
            return (await client.get("/api/health/ready")).status_code == 503

        await wait_for(unavailable, within=HANG_GUARD_SECONDS)
        live = await client.get("/api/health/live")
        ready = await client.get("/api/health/ready")
        assert live.status_code == 200, "liveness must not depend on MongoDB"
        assert ready.status_code == 503
        body = ready.json()
        assert body["status"] == "unavailable"
        assert body["detail"] == "MongoDB is unavailable."
        assert body["checks"]["mongodb"]["status"] == "down"
        assert body["checks"]["mongodb"]["consecutive_failures"] >= settings.readiness_failure_threshold == 2

        posts = await client.get("/api/posts", params={"user_id": "recovering-user", "page": 3})
        assert posts.status_code == 503
        assert posts.json()["detail"] == "MongoDB is unavailable; try again shortly."
        assert posts.headers["retry-after"] == "1"
        assert (await client.get("/api/health")).status_code == 200

        private_mongo.start()
        private_redis.start()

        async def ready_again() -> bool:
            response = await client.get("/api/health/ready")
            return response.status_code == 200 and response.json()["status"] == "ready"

        await wait_for(ready_again, within=HANG_GUARD_SECONDS)
        posts = await client.get("/api/posts", params={"user_id": "recovering-user"})
        assert posts.status_code == 200
        assert len(posts.json()["items"]) == 1, "MongoDB restarted with its data"
