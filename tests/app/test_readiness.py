"""The readiness probe: reuse, single flight, deadlines, consecutive failures, saturation."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import pytest
from pydantic import SecretStr
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from app.core.config import Settings
from app.core.redis import create_redis_client
from app.services.readiness import DependencyState, LoopLagSampler, ReadinessProbe, ServiceStatus, timed_check
from tests.app.support import HANG_GUARD_SECONDS, FakeClock, ServerProcess

pytestmark = pytest.mark.anyio


@pytest.fixture
async def clients(
    mongo_server: ServerProcess, redis_server: ServerProcess
) -> AsyncIterator[tuple[AsyncMongoClient[dict[str, Any]], Redis]]:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(f"mongodb://127.0.0.1:{mongo_server.port}/x")
    redis = create_redis_client(Settings(redis_url=SecretStr(f"redis://127.0.0.1:{redis_server.port}/0")))
    try:
        yield mongo, redis
    finally:
        await redis.aclose()
        await mongo.close()


async def test_reports_are_reused_until_they_expire(
    clients: tuple[AsyncMongoClient[dict[str, Any]], Redis],
) -> None:
    clock = FakeClock()
    probe = ReadinessProbe(*clients, timeout_seconds=0.5, cache_seconds=1.0, clock=clock)
    first = await probe.report()
    clock.now += 0.9
    assert await probe.report() is first
    clock.now += 0.2
    assert await probe.report() is not first
    assert probe.probes_run == 2


async def test_concurrent_callers_share_one_probe(clients: tuple[AsyncMongoClient[dict[str, Any]], Redis]) -> None:
    probe = ReadinessProbe(*clients, timeout_seconds=0.5, cache_seconds=1.0)
    reports = await asyncio.gather(*(probe.report() for _ in range(500)))
    assert probe.probes_run == 1
    assert {report.status for report in reports} == {ServiceStatus.READY}


async def test_zero_cache_seconds_probes_every_time(clients: tuple[AsyncMongoClient[dict[str, Any]], Redis]) -> None:
    probe = ReadinessProbe(*clients, timeout_seconds=0.5, cache_seconds=0)
    await asyncio.gather(*(probe.report() for _ in range(5)))
    assert probe.probes_run == 5


async def test_check_now_ignores_the_cached_report(clients: tuple[AsyncMongoClient[dict[str, Any]], Redis]) -> None:
    probe = ReadinessProbe(*clients, timeout_seconds=0.5, cache_seconds=60)
    await probe.report()
    await probe.check_now()
    assert probe.probes_run == 2


async def test_a_probe_that_hangs_is_cut_at_its_deadline() -> None:
    cancelled = asyncio.Event()

    async def hangs() -> None:
        try:
            await asyncio.Event().wait()  # never set: only the deadline can end this probe
        except asyncio.CancelledError:
            cancelled.set()
            raise

    check = await asyncio.wait_for(timed_check("mongodb", hangs, 0.2), timeout=HANG_GUARD_SECONDS)
    assert check.state is DependencyState.DOWN
    assert check.error == "Timeout"
    assert cancelled.is_set(), "the hung probe must be cancelled, not left running"


async def test_a_failing_probe_reports_the_error_type_not_its_message() -> None:
    async def fails() -> None:
        raise ConnectionRefusedError("mongodb://admin:hunter2@db.internal:27017 refused")

    check = await timed_check("mongodb", fails, 1.0)
    assert check.error == "ConnectionRefusedError"
    assert "hunter2" not in str(check.as_dict())


class ScriptedMongo:
    """Stands in for AsyncMongoClient in the probe: `admin.command("ping")` does what the test scripted."""

    def __init__(self) -> None:
        self.admin = self
        self.outcome = "ok"  # "ok", "hang" (only the deadline ends it) or "refused"
        self.pings = 0

    async def command(self, name: str) -> dict[str, int]:
        assert name == "ping"
        self.pings += 1
        if self.outcome == "hang":
            await asyncio.Event().wait()
        if self.outcome == "refused":
            raise ConnectionRefusedError("connection refused")
        return {"ok": 1}


class FixedLag:
    """A lag meter that reports what the test says the event loop's delay was."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds

    @contextlib.asynccontextmanager
    async def measuring(self) -> AsyncIterator[Callable[[], float]]:
        yield lambda: self.seconds


def scripted_probe(mongo: ScriptedMongo, lag: FixedLag, *, threshold: int = 2) -> ReadinessProbe:
    return ReadinessProbe(
        cast(Any, mongo), None, timeout_seconds=0.05, cache_seconds=0, failure_threshold=threshold, lag_meter=lag
    )


async def test_database_down_is_503_only_after_consecutive_failed_pings() -> None:
    mongo, lag = ScriptedMongo(), FixedLag(0.0)
    probe = scripted_probe(mongo, lag, threshold=2)
    mongo.outcome = "hang"
    first = await asyncio.wait_for(probe.report(), timeout=HANG_GUARD_SECONDS)
    second = await asyncio.wait_for(probe.report(), timeout=HANG_GUARD_SECONDS)
    assert first.mongodb.state is DependencyState.DOWN
    assert first.mongodb.consecutive_failures == 1
    assert first.is_ready, "one failed ping does not take the instance out of rotation"
    assert first.detail is not None
    assert "1 ping(s) in a row" in first.detail
    assert second.status is ServiceStatus.UNAVAILABLE
    assert second.detail == "MongoDB is unavailable."
    assert not second.is_ready


async def test_a_successful_ping_resets_the_count() -> None:
    mongo, lag = ScriptedMongo(), FixedLag(0.0)
    probe = scripted_probe(mongo, lag, threshold=2)
    mongo.outcome = "refused"
    await probe.report()
    mongo.outcome = "ok"
    assert (await probe.report()).mongodb.consecutive_failures == 0
    mongo.outcome = "refused"
    assert (await probe.report()).is_ready


async def test_a_timeout_while_the_worker_is_saturated_is_inconclusive_not_a_failure() -> None:
    # The event loop ran its timers 40 ms late, at least half the 50 ms deadline: the ping's reply may well
    # have been sitting in the socket. However many such pings, the database is not called down.
    mongo, lag = ScriptedMongo(), FixedLag(0.04)
    probe = scripted_probe(mongo, lag, threshold=2)
    mongo.outcome = "hang"
    reports = [await asyncio.wait_for(probe.report(), timeout=HANG_GUARD_SECONDS) for _ in range(5)]
    assert {report.status for report in reports} == {ServiceStatus.DEGRADED}
    assert all(report.is_ready for report in reports)
    assert {report.mongodb.state for report in reports} == {DependencyState.INCONCLUSIVE}
    assert probe.inconclusive_pings == 5
    assert "saturated" in (reports[0].mongodb.error or "")
    # The same pings with an idle loop are failures.
    lag.seconds = 0.0
    await probe.report()
    assert (await probe.report()).status is ServiceStatus.UNAVAILABLE


async def test_a_refused_connection_counts_whatever_the_load() -> None:
    mongo, lag = ScriptedMongo(), FixedLag(10.0)
    probe = scripted_probe(mongo, lag, threshold=2)
    mongo.outcome = "refused"
    await probe.report()
    assert (await probe.report()).status is ServiceStatus.UNAVAILABLE


async def test_the_lag_sampler_sees_a_blocked_event_loop() -> None:
    sampler = LoopLagSampler(step_seconds=0.001)
    async with sampler.measuring() as lag:
        time.sleep(0.2)  # noqa: ASYNC251 - blocking the loop on purpose: this is what saturation looks like
        await asyncio.sleep(0)
        blocked = lag()
    # The loop could not run the sampler's timer for at least the 0.2 s it was blocked (a lower bound that
    # a slow machine only raises).
    assert blocked >= 0.19


async def test_the_lag_sampler_stops_with_its_block() -> None:
    sampler = LoopLagSampler()
    before = len(asyncio.all_tasks())
    async with sampler.measuring():
        assert len(asyncio.all_tasks()) == before + 1
    assert len(asyncio.all_tasks()) == before
