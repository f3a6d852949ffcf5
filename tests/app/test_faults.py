"""Fault tests: real servers stopped (and hung) mid-test, by PID, while the app keeps serving.

- Redis stopped: the cached endpoint keeps answering 200 from MongoDB, without waiting on Redis.
- MongoDB stopped: /api/health/ready turns 503 (naming MongoDB) within 2 s while /live stays 200.
- Both restarted: /ready is 200 again.
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
from tests.app.support import ServerProcess, health_token_header, make_settings, serve

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


async def timed_get(client: httpx.AsyncClient, url: str, **kwargs: Any) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await client.get(url, **kwargs)
    return response, time.perf_counter() - started


async def seed_one_post(settings: Settings, user_id: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url.get_secret_value())
    try:
        await client.get_database(settings.mongo_database).posts.insert_one(
            {"user_id": user_id, "content": "hello", "status": "published", "created_at": datetime.now(UTC)}
        )
    finally:
        await client.close()


async def test_redis_stopped_mid_test_the_cached_read_answers_from_mongodb_without_waiting(
    mongo_server: ServerProcess, private_redis: ServerProcess, s3: None
) -> None:
    settings = make_settings(mongo_server.port, private_redis.port, cache_breaker_cooldown_seconds=0.5)
    await seed_one_post(settings, "fault-user")
    async with serve(create_app(settings)) as client:
        miss, _ = await timed_get(client, "/api/posts", params={"user_id": "fault-user"})
        hit, hit_seconds = await timed_get(client, "/api/posts", params={"user_id": "fault-user"})
        assert (miss.headers["x-cache"], hit.headers["x-cache"]) == ("miss", "hit")

        private_redis.stop()

        during = [await timed_get(client, "/api/posts", params={"user_id": "fault-user"}) for _ in range(20)]
        assert {response.status_code for response, _ in during} == {200}
        assert {response.headers["x-cache"] for response, _ in during} == {"bypass"}
        assert {len(response.json()["items"]) for response, _ in during} == {1}
        # No request waits on Redis: the first one meets a refused connection, the rest skip Redis entirely.
        assert max(seconds for _, seconds in during) < 0.25
        assert sorted(seconds for _, seconds in during)[len(during) // 2] < hit_seconds + 0.05

        detailed = (await client.get("/api/health/detailed", headers=health_token_header())).json()
        assert detailed["status"] == "degraded"
        assert detailed["cache"]["errors"] >= 1
        assert detailed["cache"]["bypassed"] >= 19
        assert detailed["cache"]["breaker"]["times_opened"] >= 1

        await asyncio.sleep(settings.readiness_cache_seconds)
        ready = await client.get("/api/health/ready")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"

        private_redis.start()

        async def cache_is_used_again() -> bool:
            response = await client.get("/api/posts", params={"user_id": "fault-user"})
            return response.status_code == 200 and response.headers["x-cache"] in ("hit", "miss")

        await wait_for(cache_is_used_again, within=5)


async def test_a_hung_redis_costs_one_socket_timeout_per_cooldown(
    mongo_server: ServerProcess, private_redis: ServerProcess, s3: None
) -> None:
    settings = make_settings(mongo_server.port, private_redis.port, cache_breaker_cooldown_seconds=30)
    await seed_one_post(settings, "hung-user")
    async with serve(create_app(settings)) as client:
        await client.get("/api/posts", params={"user_id": "hung-user"})
        private_redis.pause()
        try:
            first, first_seconds = await timed_get(client, "/api/posts", params={"user_id": "hung-user", "page": 2})
            rest = [
                await timed_get(client, "/api/posts", params={"user_id": "hung-user", "page": page})
                for page in range(3, 23)
            ]
        finally:
            private_redis.resume()
    assert first.status_code == 200
    assert first.headers["x-cache"] == "bypass"
    assert first_seconds < settings.redis_socket_timeout_seconds + 0.25
    assert {response.status_code for response, _ in rest} == {200}
    assert max(seconds for _, seconds in rest) < 0.1


async def test_mongodb_stopped_ready_turns_503_within_2s_live_stays_200_and_both_restarted_recover(
    private_mongo: ServerProcess, private_redis: ServerProcess, s3: None
) -> None:
    settings = make_settings(private_mongo.port, private_redis.port)
    await seed_one_post(settings, "recovering-user")
    async with serve(create_app(settings)) as client:
        assert (await client.get("/api/health/ready")).status_code == 200

        private_mongo.stop()
        private_redis.stop()
        stopped_at = time.monotonic()
        last_ready: list[httpx.Response] = []

        async def ready_is_503() -> bool:
            live = await client.get("/api/health/live")
            assert live.status_code == 200, "liveness must not depend on MongoDB"
            last_ready.append(await client.get("/api/health/ready"))
            return last_ready[-1].status_code == 503

        await wait_for(ready_is_503, within=3)
        assert time.monotonic() - stopped_at < 2.0
        body = last_ready[-1].json()
        assert body["status"] == "unavailable"
        assert body["detail"] == "MongoDB is unavailable."
        assert body["checks"]["mongodb"]["status"] == "down"

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

        await wait_for(ready_again, within=10)
        posts = await client.get("/api/posts", params={"user_id": "recovering-user"})
        assert posts.status_code == 200
        assert len(posts.json()["items"]) == 1, "MongoDB restarted with its data"
