"""Dependency probes for readiness and monitoring.

Readiness pings MongoDB and Redis with short timeouts. MongoDB is required: without it the service cannot
answer. Redis is optional: without it the cache falls back to the database, so the service is ready but
degraded. The report is reused for `cache_seconds` and concurrent callers share one probe, so a storm of
readiness probes (every pod, every load balancer node) costs one ping per dependency per process per period.

A busy worker must not call its database down. Under CPU saturation this worker's event loop runs its timers
late, so a ping can miss its deadline although MongoDB answered in time (the reply waited in the socket
buffer). Two rules keep readiness honest:
- while a ping runs, a sampler measures how late the event loop wakes up; a ping that timed out while the
  loop lagged by at least half the deadline is *inconclusive*: it neither fails nor clears MongoDB;
- MongoDB counts as unavailable (503) only after `failure_threshold` consecutive failed pings.
A refused connection or an error reply is a failure whatever the load. (Kubernetes adds its own client-side
rule on top: the probe's timeoutSeconds and failureThreshold.)
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

import pymongo
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from app.core.mongo import MongoDocument

Probe = Callable[[], Awaitable[object]]


# A ping that timed out while the loop lagged by at least this share of the deadline is inconclusive.
SATURATED_LAG_FRACTION = 0.5
# How often the lag sampler wakes up while a ping runs.
LAG_SAMPLE_SECONDS = 0.01


class DependencyState(StrEnum):
    OK = "ok"
    DOWN = "down"
    DISABLED = "disabled"
    # Timed out while this worker itself was saturated: says nothing about the dependency.
    INCONCLUSIVE = "inconclusive"


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
    timed_out: bool = False
    # For MongoDB: failed pings in a row, this one included (the 503 rule).
    consecutive_failures: int | None = None

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"status": self.state.value, "latency_ms": self.latency_ms, "error": self.error}
        if self.consecutive_failures is not None:
            body["consecutive_failures"] = self.consecutive_failures
        return body


@dataclass(frozen=True)
class ReadinessReport:
    mongodb: DependencyCheck
    redis: DependencyCheck
    checked_at: float  # monotonic seconds
    failure_threshold: int = 1

    @property
    def mongodb_unavailable(self) -> bool:
        failures = self.mongodb.consecutive_failures or 0
        return self.mongodb.state is DependencyState.DOWN and failures >= self.failure_threshold

    @property
    def status(self) -> ServiceStatus:
        if self.mongodb_unavailable:
            return ServiceStatus.UNAVAILABLE
        if self.mongodb.state is not DependencyState.OK or self.redis.state is DependencyState.DOWN:
            return ServiceStatus.DEGRADED
        return ServiceStatus.READY

    @property
    def detail(self) -> str | None:
        """What a person reading the probe's answer needs to know, or None when all is well."""
        if self.mongodb_unavailable:
            return "MongoDB is unavailable."
        notes = []
        if self.mongodb.state is DependencyState.INCONCLUSIVE:
            notes.append("MongoDB's ping timed out while this worker was saturated; not counted as a failure.")
        elif self.mongodb.state is DependencyState.DOWN:
            notes.append(
                f"MongoDB failed {self.mongodb.consecutive_failures} ping(s) in a row; this instance is reported "
                f"unavailable after {self.failure_threshold}."
            )
        if self.redis.state is DependencyState.DOWN:
            notes.append("Redis is unavailable; the cache falls back to MongoDB.")
        return " ".join(notes) or None

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
        deadline = isinstance(exc, TimeoutError)
        error = "Timeout" if deadline else type(exc).__name__
        # PyMongo's own deadline errors (CSOT, server selection) say so with .timeout.
        timed_out = deadline or getattr(exc, "timeout", False) is True
        return DependencyCheck(name, DependencyState.DOWN, _elapsed_ms(started), error, timed_out=timed_out)
    return DependencyCheck(name, DependencyState.OK, _elapsed_ms(started))


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


class LagMeter(Protocol):
    def measuring(self) -> contextlib.AbstractAsyncContextManager[Callable[[], float]]: ...


class LoopLagSampler:
    """Measures how late this event loop runs a timer, while a block of code runs.

    `async with sampler.measuring() as lag:` starts a task that sleeps `step_seconds` again and again and
    records how much later than asked it woke up; `lag()` is the worst delay so far, including the sleep
    pending right now. A saturated worker (every loop iteration busy with hundreds of requests) shows a lag
    of hundreds of milliseconds; an idle one a fraction of a millisecond.
    """

    def __init__(self, step_seconds: float = LAG_SAMPLE_SECONDS, clock: Callable[[], float] = time.perf_counter):
        self.step_seconds = step_seconds
        self._clock = clock

    @contextlib.asynccontextmanager
    async def measuring(self) -> AsyncIterator[Callable[[], float]]:
        clock, step = self._clock, self.step_seconds
        expected = clock() + step
        worst = 0.0

        async def sample() -> None:
            nonlocal expected, worst
            while True:
                # The first wake-up is measured from entering the block: the task's start is a timer too.
                now = clock()
                worst = max(worst, now - expected)
                expected = now + step
                await asyncio.sleep(step)

        task = asyncio.ensure_future(sample())
        try:
            yield lambda: max(worst, clock() - expected)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class ReadinessProbe:
    def __init__(
        self,
        mongo: AsyncMongoClient[MongoDocument],
        redis: Redis | None,
        *,
        timeout_seconds: float,
        cache_seconds: float,
        failure_threshold: int = 2,
        clock: Callable[[], float] = time.monotonic,
        lag_meter: LagMeter | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self._mongo = mongo
        self._redis = redis
        self.timeout_seconds = timeout_seconds
        self.cache_seconds = cache_seconds
        self.failure_threshold = failure_threshold
        self._clock = clock
        self._lag_meter: LagMeter = lag_meter or LoopLagSampler()
        self._last: ReadinessReport | None = None
        self._inflight: asyncio.Future[ReadinessReport] | None = None
        self._mongo_failures = 0
        self.probes_run = 0
        self.inconclusive_pings = 0

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
        report = ReadinessReport(
            mongodb=mongodb, redis=redis, checked_at=self._clock(), failure_threshold=self.failure_threshold
        )
        self._last = report
        return report

    async def _check_mongodb(self) -> DependencyCheck:
        async def ping() -> None:
            # pymongo.timeout bounds server selection and the command together; asyncio.timeout in
            # timed_check is the backstop.
            with pymongo.timeout(self.timeout_seconds):
                await self._mongo.admin.command("ping")

        async with self._lag_meter.measuring() as loop_lag:
            check = await timed_check("mongodb", ping, self.timeout_seconds + 0.1)
            lag = loop_lag()
        saturated = lag >= self.timeout_seconds * SATURATED_LAG_FRACTION
        if check.state is DependencyState.DOWN and check.timed_out and saturated:
            self.inconclusive_pings += 1
            return replace(
                check,
                state=DependencyState.INCONCLUSIVE,
                error=f"{check.error} while this worker was saturated (event loop {lag * 1000:.0f} ms late)",
                consecutive_failures=self._mongo_failures,
            )
        self._mongo_failures = self._mongo_failures + 1 if check.state is DependencyState.DOWN else 0
        return replace(check, consecutive_failures=self._mongo_failures)

    async def _check_redis(self) -> DependencyCheck:
        redis = self._redis
        if redis is None:
            return DependencyCheck("redis", DependencyState.DISABLED)
        return await timed_check("redis", redis.ping, self.timeout_seconds)

    def _clear_inflight(self, done: asyncio.Future[ReadinessReport]) -> None:
        if self._inflight is done:
            self._inflight = None
