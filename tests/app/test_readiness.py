"""The readiness probe: reuse, single flight, deadlines."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from app.core.config import Settings
from app.core.redis import create_redis_client
from app.services.readiness import DependencyState, ReadinessProbe, ServiceStatus, timed_check
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
