"""Dependency probes for readiness and monitoring.

Readiness pings MongoDB and Redis with short timeouts. MongoDB is required: without it the service cannot
answer. Redis is optional: without it the cache falls back to the database, so the service is ready but
degraded. The report is reused for `cache_seconds` and concurrent callers share one probe, so a storm of
readiness probes (every pod, every load balancer node) costs one ping per dependency per process per period.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

import pymongo
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from app.core.mongo import MongoDocument

Probe = Callable[[], Awaitable[object]]


class DependencyState(StrEnum):
    OK = "ok"
    DOWN = "down"
    DISABLED = "disabled"


class ServiceStatus(StrEnum):
    READY = "ready"  # every dependency answers
    DEGRADED = "degraded"  # MongoDB answers, Redis does not: slower, still correct
    UNAVAILABLE = "unavailable"  # MongoDB does not answer: take this instance out of rotation


@dataclass(frozen=True)
class DependencyCheck:
    name: str
    state: DependencyState
    latency_ms: float | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"status": self.state.value, "latency_ms": self.latency_ms, "error": self.error}


@dataclass(frozen=True)
class ReadinessReport:
    mongodb: DependencyCheck
    redis: DependencyCheck
    checked_at: float  # monotonic seconds

    @property
    def status(self) -> ServiceStatus:
        if self.mongodb.state is not DependencyState.OK:
            return ServiceStatus.UNAVAILABLE
        if self.redis.state is DependencyState.DOWN:
            return ServiceStatus.DEGRADED
        return ServiceStatus.READY

    @property
    def is_ready(self) -> bool:
        return self.status is not ServiceStatus.UNAVAILABLE

    def checks(self) -> dict[str, dict[str, object]]:
        return {"mongodb": self.mongodb.as_dict(), "redis": self.redis.as_dict()}


async def timed_check(name: str, probe: Probe, timeout_seconds: float) -> DependencyCheck:
    """Run one probe under a deadline; any failure is reported by its exception type, never its message
    (messages can carry host names and, for some drivers, connection strings)."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_seconds):
            await probe()
    except Exception as exc:  # noqa: BLE001 - a probe reports every failure instead of raising it
        error = "Timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
        return DependencyCheck(name, DependencyState.DOWN, _elapsed_ms(started), error)
    return DependencyCheck(name, DependencyState.OK, _elapsed_ms(started))


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


class ReadinessProbe:
    def __init__(
        self,
        mongo: AsyncMongoClient[MongoDocument],
        redis: Redis | None,
        *,
        timeout_seconds: float,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._mongo = mongo
        self._redis = redis
        self.timeout_seconds = timeout_seconds
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._last: ReadinessReport | None = None
        self._inflight: asyncio.Future[ReadinessReport] | None = None
        self.probes_run = 0

    async def report(self) -> ReadinessReport:
        """The latest report if it is fresh enough, otherwise a new one shared with concurrent callers.

        cache_seconds=0 turns both off: every call pings the databases (how the seed's readiness behaved).
        """
        if self.cache_seconds == 0:
            return await self._probe_and_remember()
        last = self._last
        if last is not None and self._clock() - last.checked_at < self.cache_seconds:
            return last
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._probe_and_remember())
            self._inflight.add_done_callback(self._clear_inflight)
        return await asyncio.shield(self._inflight)

    async def check_now(self) -> ReadinessReport:
        """A fresh report, bypassing the cache (for /api/health/detailed, which is not probed in storms)."""
        return await self._probe_and_remember()

    async def _probe_and_remember(self) -> ReadinessReport:
        self.probes_run += 1
        mongodb, redis = await asyncio.gather(self._check_mongodb(), self._check_redis())
        report = ReadinessReport(mongodb=mongodb, redis=redis, checked_at=self._clock())
        self._last = report
        return report

    async def _check_mongodb(self) -> DependencyCheck:
        async def ping() -> None:
            # pymongo.timeout bounds server selection and the command together; asyncio.timeout in
            # timed_check is the backstop.
            with pymongo.timeout(self.timeout_seconds):
                await self._mongo.admin.command("ping")

        return await timed_check("mongodb", ping, self.timeout_seconds + 0.1)

    async def _check_redis(self) -> DependencyCheck:
        redis = self._redis
        if redis is None:
            return DependencyCheck("redis", DependencyState.DISABLED)
        return await timed_check("redis", redis.ping, self.timeout_seconds)

    def _clear_inflight(self, done: asyncio.Future[ReadinessReport]) -> None:
        if self._inflight is done:
            self._inflight = None
