"""The cache service against a real Redis: TTLs, namespaces, single-flight, the breaker and its counters."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr
from redis.asyncio import Redis

from app.core.config import Settings
from app.core.redis import create_redis_client, redis_pool_stats
from app.services.cache import CacheService, CacheSource
from app.services.circuit_breaker import BreakerState, CircuitBreaker
from tests.app.support import HANG_GUARD_SECONDS, FakeClock, ServerProcess, free_port

pytestmark = pytest.mark.anyio


class Greeting(BaseModel):
    text: str
    count: int


def redis_settings(port: int) -> Settings:
    return Settings(redis_url=SecretStr(f"redis://127.0.0.1:{port}/0"))


def make_cache(
    redis: Redis | None,
    *,
    cooldown: float = 5.0,
    min_calls: int = 10,
    max_concurrency: int = 50,
    clock: FakeClock | None = None,
) -> CacheService:
    return CacheService(
        redis,
        prefix=f"test-{uuid.uuid4().hex[:8]}",
        default_ttl_seconds=60,
        breaker=CircuitBreaker(
            cooldown_seconds=cooldown,
            window_seconds=10,
            min_calls=min_calls,
            failure_rate=0.5,
            clock=clock or FakeClock(),
        ),
        max_concurrency=max_concurrency,
        pool_wait_seconds=0.05,
    )


@pytest.fixture
async def redis(redis_server: ServerProcess) -> AsyncIterator[Redis]:
    client = create_redis_client(redis_settings(redis_server.port))
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def dead_redis() -> AsyncIterator[Redis]:
    """A client for a port where nothing listens: every call fails at once with ConnectionError."""
    client = create_redis_client(redis_settings(free_port()))
    try:
        yield client
    finally:
        await client.aclose()


async def test_json_round_trip_with_ttl_under_the_namespace(redis: Redis) -> None:
    cache = make_cache(redis)
    assert await cache.set_json("profiles", "user-1", {"name": "Ada", "tags": ["a", "b"]}, ttl_seconds=30)
    assert await cache.get_json("profiles", "user-1") == {"name": "Ada", "tags": ["a", "b"]}

    full_key = cache.key("profiles", "user-1")
    assert full_key.endswith(":profiles:user-1")
    assert 0 < await redis.ttl(full_key) <= 30
    assert await cache.get_json("other-namespace", "user-1") is None
    assert cache.stats.hits == 1
    assert cache.stats.misses == 1


async def test_the_default_ttl_applies_when_none_is_given(redis: Redis) -> None:
    cache = make_cache(redis)
    await cache.set_json("profiles", "user-2", {"x": 1})
    assert 50 < await redis.ttl(cache.key("profiles", "user-2")) <= 60


async def test_delete_removes_an_entry(redis: Redis) -> None:
    cache = make_cache(redis)
    await cache.set_json("profiles", "user-3", {"x": 1})
    assert await cache.delete("profiles", "user-3")
    assert await cache.get_json("profiles", "user-3") is None
    assert not await cache.delete("profiles", "user-3")


@pytest.mark.parametrize("namespace", ["", "with:colon"])
async def test_namespaces_must_be_plain(redis: Redis, namespace: str) -> None:
    with pytest.raises(ValueError, match="namespace"):
        await make_cache(redis).get_json(namespace, "k")


async def test_none_is_not_cacheable(redis: Redis) -> None:
    with pytest.raises(ValueError, match="None"):
        await make_cache(redis).set_json("ns", "k", None)


async def test_a_corrupt_entry_counts_as_an_error_and_a_miss(redis: Redis) -> None:
    cache = make_cache(redis)
    await redis.set(cache.key("ns", "broken"), b"{not json", ex=30)
    assert await cache.get_json("ns", "broken") is None
    assert cache.stats.errors == 1


async def test_get_or_compute_stores_and_then_hits(redis: Redis) -> None:
    cache = make_cache(redis)
    calls = 0

    async def compute() -> Greeting:
        nonlocal calls
        calls += 1
        return Greeting(text="hello", count=calls)

    first = await cache.get_or_compute("greetings", "en", Greeting, compute, ttl_seconds=30)
    second = await cache.get_or_compute("greetings", "en", Greeting, compute, ttl_seconds=30)
    assert (first.source, second.source) == (CacheSource.MISS, CacheSource.HIT)
    assert first.value == second.value == Greeting(text="hello", count=1)
    assert calls == 1
    assert 0 < await redis.ttl(cache.key("greetings", "en")) <= 30


async def test_a_hot_miss_is_computed_once_per_process(redis: Redis) -> None:
    cache = make_cache(redis)
    calls = 0

    async def slow_compute() -> Greeting:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.1)
        return Greeting(text="expensive", count=calls)

    results = await asyncio.gather(
        *(cache.get_or_compute("greetings", "hot", Greeting, slow_compute) for _ in range(100))
    )
    assert calls == 1
    assert {result.value.count for result in results} == {1}
    assert cache.stats.coalesced == 99
    assert cache.snapshot()["inflight_keys"] == 0


async def test_a_failed_compute_reaches_every_waiter_and_is_not_cached(redis: Redis) -> None:
    cache = make_cache(redis)
    attempts = 0

    async def failing() -> Greeting:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.05)
        raise RuntimeError("database said no")

    results = await asyncio.gather(
        *(cache.get_or_compute("greetings", "bad", Greeting, failing) for _ in range(10)), return_exceptions=True
    )
    assert attempts == 1
    assert all(isinstance(result, RuntimeError) for result in results)

    async def working() -> Greeting:
        return Greeting(text="recovered", count=1)

    again = await cache.get_or_compute("greetings", "bad", Greeting, working)
    assert again.source is CacheSource.MISS


async def test_a_cancelled_caller_does_not_cancel_the_shared_load(redis: Redis) -> None:
    cache = make_cache(redis)

    async def slow() -> Greeting:
        await asyncio.sleep(0.1)
        return Greeting(text="done", count=1)

    impatient = asyncio.ensure_future(cache.get_or_compute("greetings", "slow", Greeting, slow))
    patient = asyncio.ensure_future(cache.get_or_compute("greetings", "slow", Greeting, slow))
    await asyncio.sleep(0.01)
    impatient.cancel()
    assert (await patient).value.text == "done"
    assert impatient.cancelled()


async def test_an_entry_of_an_older_shape_is_recomputed(redis: Redis) -> None:
    cache = make_cache(redis)
    await redis.set(cache.key("greetings", "old"), b'{"text": "no count field"}', ex=30)

    async def compute() -> Greeting:
        return Greeting(text="new", count=2)

    result = await cache.get_or_compute("greetings", "old", Greeting, compute)
    assert result.value.text == "new"
    assert cache.stats.errors == 1
    assert await cache.get_json("greetings", "old") == {"text": "new", "count": 2}


async def test_a_dead_redis_opens_the_breaker_and_is_skipped(dead_redis: Redis) -> None:
    cache = make_cache(dead_redis, cooldown=60)

    async def compute() -> Greeting:
        return Greeting(text="from the database", count=1)

    results = [await cache.get_or_compute("greetings", f"k{index}", Greeting, compute) for index in range(20)]
    assert {result.source for result in results} == {CacheSource.BYPASS}
    # The window needs min_calls (10) outcomes before a failure rate means anything: ten failed GETs opened
    # the breaker, the other ten lookups were skipped without a call, and nothing was written back.
    assert cache.stats.errors == 10
    assert cache.stats.bypassed == 10
    assert cache.stats.writes == 0
    assert cache.breaker.state is BreakerState.OPEN
    assert cache.snapshot()["breaker"] == {
        "state": "open",
        "times_opened": 1,
        "cooldown_seconds": 60,
        "window_seconds": 10,
        "window_calls": 0,
        "window_failures": 0,
    }


async def test_opening_the_breaker_drops_the_pools_idle_connections(private_redis: ServerProcess) -> None:
    client = create_redis_client(redis_settings(private_redis.port))
    cache = make_cache(client, min_calls=2)
    try:
        await asyncio.gather(*(client.ping() for _ in range(5)))  # five pooled connections
        assert redis_pool_stats(client, 10)["open_connections"] == 5
        private_redis.stop()
        for index in range(2):
            await cache.get_json("ns", f"k{index}")
        assert cache.breaker.state is BreakerState.OPEN
        # Dead sockets would each fail a trial after the cooldown; they are gone, so the trial connects afresh.
        assert redis_pool_stats(client, 10)["open_connections"] == 0
    finally:
        await client.aclose()


async def test_after_a_restart_stale_pooled_connections_are_retried_on_fresh_ones(
    private_redis: ServerProcess,
) -> None:
    """After a restart every pooled connection is dead; one retry on a fresh connection hides that, so not a
    single call fails (without the retry, 19 of 20 concurrent calls failed)."""
    client = create_redis_client(redis_settings(private_redis.port))
    cache = make_cache(client)
    try:
        assert all(await asyncio.gather(*(cache.set_json("ns", f"k{index}", {"i": index}) for index in range(20))))
        assert redis_pool_stats(client, 50)["open_connections"] >= 2
        private_redis.stop()
        private_redis.start()  # same port, empty: every pooled socket now points at a closed connection
        stored = await asyncio.gather(*(cache.set_json("ns", f"k{index}", {"i": index}) for index in range(20)))
        read = await asyncio.gather(*(cache.get_json("ns", f"k{index}") for index in range(20)))
    finally:
        await client.aclose()
    assert all(stored)
    assert read == [{"i": index} for index in range(20)]
    assert cache.stats.errors == 0
    assert cache.breaker.state is BreakerState.CLOSED


async def test_after_the_cooldown_a_recovered_redis_is_used_again(private_redis: ServerProcess) -> None:
    client = create_redis_client(redis_settings(private_redis.port))
    clock = FakeClock()
    cache = make_cache(client, cooldown=5, min_calls=3, clock=clock)
    try:
        private_redis.stop()
        for _ in range(3):
            assert await cache.get_json("ns", "k") is None
        assert cache.breaker.state is BreakerState.OPEN
        private_redis.start()
        clock.advance(5)
        assert await cache.set_json("ns", "k", {"back": True})
        assert cache.breaker.state is BreakerState.CLOSED
        assert await cache.get_json("ns", "k") == {"back": True}
    finally:
        await client.aclose()


async def test_a_hung_redis_costs_one_socket_timeout_then_nothing(private_redis: ServerProcess) -> None:
    client = create_redis_client(redis_settings(private_redis.port))
    cache = make_cache(client, cooldown=60, min_calls=2)
    commands: list[str] = []
    execute = client.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        commands.append(str(args[0]))
        return await execute(*args, **options)

    try:
        await client.ping()  # a pooled connection exists before the hang
        private_redis.pause()
        client.execute_command = counted

        async def compute() -> Greeting:
            return Greeting(text="fallback", count=1)

        # Redis is hung (SIGSTOP): only the client's socket timeout can end the first calls. The guard only
        # turns a missing timeout into a failure instead of a hang.
        first = [
            await asyncio.wait_for(
                cache.get_or_compute("greetings", f"a{index}", Greeting, compute), timeout=HANG_GUARD_SECONDS
            )
            for index in range(2)
        ]
        rest = [await cache.get_or_compute("greetings", f"b{index}", Greeting, compute) for index in range(50)]
    finally:
        private_redis.resume()
        await client.aclose()
    assert {result.source for result in first} == {CacheSource.BYPASS}
    # A timeout is not retried (a hung Redis would cost two timeouts per call): one GET per lookup until the
    # window holds min_calls (2) failures, then the breaker skips Redis for every later lookup.
    assert commands == ["GET", "GET"]
    assert cache.stats.errors == 2
    assert {result.source for result in rest} == {CacheSource.BYPASS}
    assert cache.stats.bypassed == 50
    assert cache.breaker.state is BreakerState.OPEN


async def test_saturation_falls_back_without_tripping_the_breaker(redis: Redis) -> None:
    cache = make_cache(redis, max_concurrency=1)

    async def compute() -> Greeting:
        return Greeting(text="computed", count=1)

    # Hold the only slot, as a slow in-flight Redis call would.
    await cache._slots.acquire()
    try:
        result = await cache.get_or_compute("greetings", "busy", Greeting, compute)
    finally:
        cache._slots.release()
    assert result.source is CacheSource.BYPASS
    assert cache.breaker.state is BreakerState.CLOSED
    assert cache.stats.errors == 0


async def test_a_disabled_cache_always_computes() -> None:
    cache = make_cache(None)
    calls = 0

    async def compute() -> Greeting:
        nonlocal calls
        calls += 1
        return Greeting(text="x", count=calls)

    await cache.get_or_compute("greetings", "k", Greeting, compute)
    second = await cache.get_or_compute("greetings", "k", Greeting, compute)
    assert second.source is CacheSource.BYPASS
    assert calls == 2
    assert cache.snapshot()["enabled"] is False
