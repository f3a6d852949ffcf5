"""Rate limits against the real Redis the app tests run: counts, 429 with Retry-After, limits shared by two app
instances, the client address an attacker cannot choose, and fail-open with Redis stopped.

Every limit runs on a fake clock (in place of Redis's), so each count and each Retry-After is exact; the one test
on Redis's own clock asserts counts only.
"""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from app.core.config import RateLimit, Settings
from app.main import create_app
from app.services.circuit_breaker import CircuitBreaker
from app.services.rate_limit import Action, RateLimiter, Scope
from tests.app.support import (
    DependencySpy,
    FakeClock,
    ServerProcess,
    bearer_token,
    freeze_breaker_clock,
    freeze_rate_limit_clock,
    health_token_header,
    make_settings,
    serve,
)

pytestmark = pytest.mark.anyio

UPLOAD = {"filename": "a.png", "content_type": "image/png", "size_bytes": 10}
ALB_SAW = "203.0.113.7"


def limited(settings: Settings, **limits: str) -> Settings:
    """The settings with these limits (`uploads_per_user="3/minute"`), the others out of the way."""
    values: dict[str, Any] = {
        "rate_limit_writes_per_user": RateLimit(requests=1000, period_seconds=60),
        "rate_limit_writes_per_ip": RateLimit(requests=1000, period_seconds=60),
        "rate_limit_uploads_per_user": RateLimit(requests=1000, period_seconds=60),
        "rate_limit_uploads_per_ip": RateLimit(requests=1000, period_seconds=60),
    }
    for name, text in limits.items():
        requests, per = text.split("/")
        seconds = {"minute": 60, "hour": 3600}[per]
        values[f"rate_limit_{name}"] = RateLimit(requests=int(requests), period_seconds=seconds)
    return settings.model_copy(update=values)


def upload_from(user: str, *, forwarded_for: str = ALB_SAW) -> dict[str, str]:
    return {**bearer_token(user), "X-Forwarded-For": forwarded_for}


@contextlib.asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(settings)) as client:
        yield client


async def upload(client: httpx.AsyncClient, user: str = "user-1", **kwargs: str) -> httpx.Response:
    return await client.post("/api/uploads", json=UPLOAD, headers=upload_from(user, **kwargs))


# The limiter itself.


def limiter_on(redis: Redis, clock: FakeClock, prefix: str, **limits: RateLimit) -> RateLimiter:
    every = RateLimit(requests=1000, period_seconds=60)
    named = {(action, scope): f"{action.value}_per_{scope.value}" for action in Action for scope in Scope}
    return RateLimiter(
        redis,
        prefix=prefix,
        limits={pair: limits.get(name, every) for pair, name in named.items()},
        breaker=CircuitBreaker(cooldown_seconds=2, clock=clock),
        max_concurrency=8,
        pool_wait_seconds=0.05,
        clock=clock,
    )


async def test_a_bucket_allows_its_burst_then_one_request_per_interval(redis_server: ServerProcess) -> None:
    clock = FakeClock()
    redis = Redis(port=redis_server.port)
    limiter = limiter_on(redis, clock, "gcra-burst", uploads_per_user=RateLimit(requests=3, period_seconds=60))
    buckets = limiter.buckets([Action.UPLOAD], user_id="user-1", client=None)
    try:
        decisions = [await limiter.check(buckets) for _ in range(4)]
        assert [decision.allowed for decision in decisions] == [True, True, True, False]
        assert decisions[3].retry_after_seconds == 20, "one request every 60/3 s: the next in 20 s"
        clock.advance(19.5)
        assert (await limiter.check(buckets)).retry_after_seconds == 1, "0.5 s left, rounded up"
        clock.advance(0.5)
        assert (await limiter.check(buckets)).allowed
        assert not (await limiter.check(buckets)).allowed
        clock.advance(60)
        assert [(await limiter.check(buckets)).allowed for _ in range(4)] == [True, True, True, False], "full again"
        assert limiter.stats.limited == 4
        assert await redis.pttl(limiter.key(buckets[0])) > 0, "every bucket expires once it would be full again"
    finally:
        await redis.aclose()


async def test_a_refused_request_takes_nothing_from_the_other_limits(redis_server: ServerProcess) -> None:
    clock = FakeClock()
    redis = Redis(port=redis_server.port)
    limiter = limiter_on(
        redis,
        clock,
        "gcra-atomic",
        uploads_per_ip=RateLimit(requests=1, period_seconds=60),
        uploads_per_user=RateLimit(requests=2, period_seconds=60),
    )
    try:
        assert (await limiter.check(limiter.buckets([Action.UPLOAD], user_id="user-1", client="1.1.1.1"))).allowed
        refused = await limiter.check(limiter.buckets([Action.UPLOAD], user_id="user-1", client="1.1.1.1"))
        assert not refused.allowed
        assert refused.refused_by is not None
        assert refused.refused_by.scope is Scope.IP
        # The refused request did not use the user's second request: from another address it still has it.
        assert (await limiter.check(limiter.buckets([Action.UPLOAD], user_id="user-1", client="2.2.2.2"))).allowed
        assert not (await limiter.check(limiter.buckets([Action.UPLOAD], user_id="user-1", client="3.3.3.3"))).allowed
    finally:
        await redis.aclose()


async def test_on_redis_s_own_clock_the_counts_hold(redis_server: ServerProcess) -> None:
    """Production's path (no clock passed: the script reads TIME). Counts only: a day-long period cannot roll
    over during a test."""
    redis = Redis(port=redis_server.port)
    limiter = RateLimiter.from_settings(
        redis,
        limited(make_settings(1, redis_server.port), uploads_per_user="3/hour"),
        CircuitBreaker(cooldown_seconds=2),
    )
    buckets = limiter.buckets([Action.UPLOAD], user_id="user-1", client=None)
    try:
        decisions = [await limiter.check(buckets) for _ in range(4)]
        assert [decision.allowed for decision in decisions] == [True, True, True, False]
        assert 0 < decisions[3].retry_after_seconds <= 1200
    finally:
        await redis.aclose()


# Through the app.


async def test_past_the_user_s_limit_the_app_answers_429_with_retry_after(
    settings: Settings, s3: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = freeze_rate_limit_clock(monkeypatch)
    async with app_client(limited(settings, uploads_per_user="3/minute")) as client:
        statuses = [(await upload(client)).status_code for _ in range(3)]
        refused = await upload(client)
        other_user = await upload(client, "user-2")
        clock.advance(20)
        after_interval = await upload(client)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "20"
    assert refused.json()["detail"] == "Too many requests (the limit is 3 uploads a minute per user); retry in 20 s."
    assert other_user.status_code == 200, "the limit is per user"
    assert after_interval.status_code == 200


async def test_the_write_limit_counts_too(settings: Settings, s3: None, monkeypatch: pytest.MonkeyPatch) -> None:
    freeze_rate_limit_clock(monkeypatch)
    async with app_client(limited(settings, writes_per_user="2/hour")) as client:
        statuses = [(await upload(client)).status_code for _ in range(3)]
        refused = await upload(client)
    assert statuses == [200, 200, 429]
    assert refused.headers["retry-after"] == "1800"
    assert "2 writes an hour per user" in refused.json()["detail"]


async def test_a_forged_forwarded_for_cannot_evade_the_address_limit(
    settings: Settings, s3: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many users, each claiming another address in X-Forwarded-For: the ALB appended the one it saw, and that
    one is counted."""
    freeze_rate_limit_clock(monkeypatch)
    async with app_client(limited(settings, uploads_per_ip="3/minute")) as client:
        statuses = [
            (await upload(client, f"user-{n}", forwarded_for=f"10.9.8.{n}, 198.51.100.{n}, {ALB_SAW}")).status_code
            for n in range(5)
        ]
        from_elsewhere = await upload(client, "user-9", forwarded_for=f"{ALB_SAW}, 192.0.2.55")
    assert statuses == [200, 200, 200, 429, 429]
    assert from_elsewhere.status_code == 200, "another address (the ALB's entry is last) has its own limit"


async def test_two_app_instances_share_the_limits(
    settings: Settings, s3: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two create_app on the same Redis: as two instances (or workers), they draw from the same buckets."""
    freeze_rate_limit_clock(monkeypatch)
    shared = limited(settings, uploads_per_user="4/minute")
    async with app_client(shared) as first, app_client(shared) as second:
        statuses = [(await upload(client)).status_code for client in (first, second, first, second, first, second)]
    assert statuses == [200, 200, 200, 200, 429, 429]


async def test_reads_and_health_checks_are_never_limited(
    settings: Settings, s3: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_rate_limit_clock(monkeypatch)
    strict = limited(settings, writes_per_user="1/hour", writes_per_ip="1/hour")
    async with app_client(strict) as client:
        paths = ["/api/health", "/api/health/live", "/api/health/ready", "/api/posts?user_id=user-1"]
        statuses = {(await client.get(path, headers={"X-Forwarded-For": ALB_SAW})).status_code for path in paths * 5}
        assert (await upload(client)).status_code == 200
        assert (await upload(client)).status_code == 429
    assert statuses == {200}


async def test_an_anonymous_request_is_refused_before_any_limit_is_spent(
    settings: Settings, s3: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = DependencySpy.install(monkeypatch)
    async with app_client(settings) as client:
        response = await client.post("/api/uploads", json=UPLOAD)
    assert response.status_code == 401
    assert not [call for call in spy.calls if call.startswith("redis EVAL")]


async def test_with_the_limits_switched_off_redis_is_not_asked(
    settings: Settings, s3: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = DependencySpy.install(monkeypatch)
    async with app_client(settings.model_copy(update={"rate_limit_enabled": False})) as client:
        statuses = [(await upload(client)).status_code for _ in range(3)]
        detailed = (await client.get("/api/health/detailed", headers=health_token_header())).json()
    assert statuses == [200, 200, 200]
    assert not [call for call in spy.calls if call.startswith("redis EVAL")]
    assert detailed["rate_limit"]["enabled"] is False


async def test_a_check_is_one_script_call(settings: Settings, s3: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # The write and upload limits, for the user and the address: four buckets, one round trip.
    spy = DependencySpy.install(monkeypatch)
    async with app_client(settings) as client:
        assert (await upload(client)).status_code == 200
    assert [call for call in spy.calls if call.startswith("redis EVAL")] == ["redis EVALSHA"]


# Redis down: fail open.


async def test_with_redis_stopped_writes_pass_are_logged_and_counted_then_limits_return(
    private_redis: ServerProcess,
    mongo_server: ServerProcess,
    s3: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = freeze_rate_limit_clock(monkeypatch)
    breaker_clock = freeze_breaker_clock(monkeypatch)
    settings = limited(make_settings(mongo_server.port, private_redis.port), uploads_per_user="2/minute")
    async with app_client(settings) as client:
        assert [(await upload(client)).status_code for _ in range(3)] == [200, 200, 429]
        private_redis.stop()
        with caplog.at_level("WARNING", logger="app.services.rate_limit"):
            during = [(await upload(client)).status_code for _ in range(15)]
        outage = (await client.get("/api/health/detailed", headers=health_token_header())).json()["rate_limit"]
        private_redis.start()  # empty: every bucket is full again
        breaker_clock.advance(settings.cache_breaker_cooldown_seconds)
        clock.advance(1)
        after = [(await upload(client)).status_code for _ in range(4)]
        recovered = (await client.get("/api/health/detailed", headers=health_token_header())).json()["rate_limit"]
    assert during == [200] * 15, "Redis down: the limit is not enforced, the request goes through"
    assert outage["failed_open"] == 15
    assert outage["redis_errors"] >= 1
    assert outage["breaker"]["state"] == "open", "after enough failures Redis is skipped: no timeout per request"
    assert outage["redis_errors"] < 15
    warnings = [record for record in caplog.records if record.name == "app.services.rate_limit"]
    assert len(warnings) == outage["redis_errors"]
    assert all("rate limit not enforced" in record.getMessage() for record in warnings)
    assert after == [200, 200, 429, 429], "Redis back: limits enforced again"
    assert recovered["breaker"]["state"] == "closed"


async def test_detailed_reports_the_limits(settings: Settings, s3: None, monkeypatch: pytest.MonkeyPatch) -> None:
    freeze_rate_limit_clock(monkeypatch)
    async with app_client(limited(settings, uploads_per_user="1/minute")) as client:
        await upload(client)
        await upload(client)
        body = (await client.get("/api/health/detailed", headers=health_token_header())).json()["rate_limit"]
    assert body["enabled"] is True
    assert (body["checks"], body["limited"], body["failed_open"]) == (2, 1, 0)
    assert body["limits"]["uploads_per_user"] == "1/60s"
