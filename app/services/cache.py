"""The cache: JSON values in Redis under namespaced keys, with a TTL on every entry.

Three properties matter in production:
- get-or-compute is single-flight per key: while one coroutine loads a key, the others in this process wait
  for its result, so a hot miss reaches Redis and the database once per process, not once per request;
- a circuit breaker sits in front of Redis: when a good share of recent calls failed, Redis is skipped for a
  short cooldown and the value is computed from the database, so a dead or hung Redis adds no latency, while
  a single error does not (the client retries a connection error once on a fresh connection, see
  app/core/redis.py);
- counters (hits, misses, errors, bypasses, coalesced waits) for /api/health/detailed.
Redis is never a source of truth here: every failure degrades to computing the value.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.services.circuit_breaker import CircuitBreaker

logger = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)
ResultT = TypeVar("ResultT")

# What a Redis call can raise when Redis is down, hung or saturated.
REDIS_FAILURES = (RedisError, OSError, TimeoutError)


class CacheSource(StrEnum):
    HIT = "hit"  # served from Redis
    MISS = "miss"  # computed, then stored in Redis
    BYPASS = "bypass"  # computed without Redis (disabled, breaker open, Redis failing or saturated)


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    errors: int = 0
    bypassed: int = 0
    coalesced: int = 0
    writes: int = 0


@dataclass(frozen=True)
class CacheResult(Generic[ModelT]):
    value: ModelT
    source: CacheSource
    # The value as JSON: the bytes stored in (or read from, and validated against the model) Redis. A route
    # can send them as they are instead of serialising the model again.
    json: bytes | None = None


class _Unavailable:
    """Marks a Redis call that was skipped or failed, as distinct from a miss."""


UNAVAILABLE = _Unavailable()


class CacheService:
    def __init__(
        self,
        redis: Redis | None,
        *,
        prefix: str,
        default_ttl_seconds: int,
        breaker: CircuitBreaker,
        max_concurrency: int,
        pool_wait_seconds: float,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._default_ttl = default_ttl_seconds
        self.breaker = breaker
        # Bounds concurrent Redis calls to the pool size. A request that cannot get a slot quickly computes
        # its value instead: saturation is not a Redis failure, so it must not trip the breaker.
        self._slots = asyncio.Semaphore(max_concurrency)
        self._pool_wait = pool_wait_seconds
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self.stats = CacheStats()

    @property
    def enabled(self) -> bool:
        return self._redis is not None

    def key(self, namespace: str, key: str) -> str:
        if not namespace or ":" in namespace:
            raise ValueError(f"cache namespace {namespace!r} must be non-empty and contain no ':'")
        return f"{self._prefix}:{namespace}:{key}"

    async def get_json(self, namespace: str, key: str) -> Any | None:
        """The cached JSON value, or None on a miss or when Redis is unavailable."""
        raw = await self._call(lambda redis: redis.get(self.key(namespace, key)))
        if isinstance(raw, _Unavailable) or raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            self.stats.errors += 1
            logger.warning("cache entry is not JSON; ignoring it", extra={"cache_key": self.key(namespace, key)})
            return None

    async def set_json(self, namespace: str, key: str, value: Any, ttl_seconds: int | None = None) -> bool:
        """Store a JSON-serialisable value with a TTL; False if Redis did not take it."""
        if value is None:
            raise ValueError("None is not cached: a miss already means 'nothing'")
        return await self._store(self.key(namespace, key), json.dumps(value), ttl_seconds)

    async def delete(self, namespace: str, key: str) -> bool:
        deleted = await self._call(lambda redis: redis.delete(self.key(namespace, key)), count_lookup=False)
        return not isinstance(deleted, _Unavailable) and bool(deleted)

    async def get_or_compute(
        self,
        namespace: str,
        key: str,
        model: type[ModelT],
        compute: Callable[[], Awaitable[ModelT]],
        ttl_seconds: int | None = None,
    ) -> CacheResult[ModelT]:
        """The cached model, or compute() stored for ttl_seconds. Concurrent callers share one load per key."""
        full_key = self.key(namespace, key)
        flight = self._inflight.get(full_key)
        if flight is None:
            flight = asyncio.ensure_future(self._load(full_key, model, compute, ttl_seconds))
            self._inflight[full_key] = flight
            flight.add_done_callback(lambda done: self._forget(full_key, done))
        else:
            self.stats.coalesced += 1
        # shield: a caller that is cancelled (client went away) must not cancel the load the others wait for.
        return await asyncio.shield(flight)

    def snapshot(self) -> dict[str, object]:
        stats = asdict(self.stats)
        lookups = self.stats.hits + self.stats.misses
        return {
            "enabled": self.enabled,
            **stats,
            "hit_ratio": round(self.stats.hits / lookups, 4) if lookups else None,
            "inflight_keys": len(self._inflight),
            "breaker": self.breaker.snapshot(),
        }

    async def _load(
        self,
        full_key: str,
        model: type[ModelT],
        compute: Callable[[], Awaitable[ModelT]],
        ttl_seconds: int | None,
    ) -> CacheResult[ModelT]:
        raw = await self._call(lambda redis: redis.get(full_key))
        if isinstance(raw, bytes | str):
            try:
                value = model.model_validate_json(raw)
            except ValidationError:
                # Written by an older release with another shape: recompute and overwrite.
                self.stats.errors += 1
            else:
                return CacheResult(value, CacheSource.HIT, raw.encode() if isinstance(raw, str) else raw)
        value = await compute()
        payload = value.model_dump_json()
        if isinstance(raw, _Unavailable):
            return CacheResult(value, CacheSource.BYPASS, payload.encode())
        await self._store(full_key, payload, ttl_seconds)
        return CacheResult(value, CacheSource.MISS, payload.encode())

    async def _store(self, full_key: str, payload: str, ttl_seconds: int | None) -> bool:
        ttl = ttl_seconds if ttl_seconds is not None else self._default_ttl
        if ttl <= 0:
            raise ValueError("cache TTL must be positive: entries without expiry outlive their data")
        stored = await self._call(lambda redis: redis.set(full_key, payload, ex=ttl), count_lookup=False)
        if isinstance(stored, _Unavailable):
            return False
        self.stats.writes += 1
        return True

    async def _call(
        self, operation: Callable[[Redis], Awaitable[ResultT]], *, count_lookup: bool = True
    ) -> ResultT | _Unavailable:
        redis = self._redis
        if redis is None or not self.breaker.allow():
            self.stats.bypassed += 1
            return UNAVAILABLE
        if self._slots.locked():
            try:
                async with asyncio.timeout(self._pool_wait):
                    await self._slots.acquire()
            except TimeoutError:
                self.stats.bypassed += 1
                return UNAVAILABLE
        else:
            await self._slots.acquire()  # a free slot: returns without suspending
        try:
            result = await operation(redis)
        except REDIS_FAILURES as exc:
            self.stats.errors += 1
            if self.breaker.record_failure():
                logger.warning(
                    "redis failing; serving from the database for %.1fs",
                    self.breaker.cooldown_seconds,
                    extra={"error": type(exc).__name__},
                )
                # The pool's idle connections are probably dead too (a restart or failover closed them all):
                # drop them now, so the trial after the cooldown opens a fresh connection.
                await self._drop_idle_connections(redis)
            return UNAVAILABLE
        finally:
            self._slots.release()
        self.breaker.record_success()
        if count_lookup:
            if result is None:
                self.stats.misses += 1
            else:
                self.stats.hits += 1
        return result

    async def _drop_idle_connections(self, redis: Redis) -> None:
        try:
            await redis.connection_pool.disconnect(inuse_connections=False)
        except REDIS_FAILURES:  # closing a dead socket can fail; the pool forgets it either way
            logger.debug("closing idle redis connections failed", exc_info=True)

    def _forget(self, full_key: str, flight: asyncio.Future[Any]) -> None:
        if self._inflight.get(full_key) is flight:
            del self._inflight[full_key]
        # Retrieve the exception so an unawaited failure (every waiter cancelled) is not reported as lost.
        if not flight.cancelled():
            flight.exception()
