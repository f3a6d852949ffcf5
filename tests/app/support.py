"""What the app's tests share: real servers on free loopback ports, started as subprocesses, stopped by PID.

- Redis: Debian's `redis-server`, no persistence.
- MongoDB: SecantusDB (`python -m secantus`, from PyPI), a MongoDB wire-protocol server; its data lives in a
  temporary directory, so a stopped server restarts with its data, as mongod would.
- S3: moto's in-process mock.
Fixtures built from these are in conftest.py.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pymongo import monitoring
from redis.asyncio import Redis

from app.core.config import Settings
from app.services.readiness import ReadinessProbe

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_BUCKET = "contentry-test-uploads"
TEST_JWT_KID = "test-key"
TEST_JWT_SECRET = "test-jwt-secret-" + "x" * 32
TEST_HEALTH_TOKEN = "test-health-token-" + "y" * 32
SERVER_START_TIMEOUT_SECONDS = 20.0
SERVER_STOP_TIMEOUT_SECONDS = 10.0
# A hang detector for awaits that must end on a deadline of their own (a fraction of a second): generous enough
# never to fire on a loaded machine, short enough that a missing deadline fails the test instead of hanging it.
# Tests assert properties (a timeout applied, no call made), never elapsed times: timings live in bench/.
HANG_GUARD_SECONDS = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class ServerProcess:
    """A server subprocess on a fixed loopback port that can be stopped, paused and started again."""

    name: str
    argv: list[str]
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not running"
        return self.process.pid

    def start(self) -> None:
        assert self.process is None, f"{self.name} is already running"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if port_accepts(self.port):
                return
            time.sleep(0.05)
        tail = self.log_path.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"{self.name} did not start on 127.0.0.1:{self.port}:\n{tail}")

    def stop(self) -> None:
        """SIGTERM by PID, SIGKILL if it does not exit in time; waits until the port is closed."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)  # a paused process cannot handle SIGTERM
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=SERVER_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=SERVER_STOP_TIMEOUT_SECONDS)
        deadline = time.monotonic() + SERVER_STOP_TIMEOUT_SECONDS
        while port_accepts(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def pause(self) -> None:
        """SIGSTOP: the port stays open but nothing answers, like a hung server."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    @contextlib.contextmanager
    def running(self) -> Iterator["ServerProcess"]:
        self.start()
        try:
            yield self
        finally:
            self.stop()


def redis_server_process(workdir: Path) -> ServerProcess:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return ServerProcess("redis", argv, port, workdir / f"redis-{port}.log")


def mongo_server_process(workdir: Path) -> ServerProcess:
    port = free_port()
    storage = workdir / f"mongo-{port}"
    argv = [
        sys.executable,
        "-m",
        "secantus",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage-path",
        str(storage),
        "--log-level",
        "WARNING",
    ]
    return ServerProcess("mongodb", argv, port, workdir / f"mongo-{port}.log")


def make_settings(mongo_port: int, redis_port: int, **overrides: Any) -> Settings:
    """Settings for one test: its own database and cache prefix on the servers at these loopback ports."""
    unique = uuid.uuid4().hex[:12]
    values: dict[str, Any] = {
        "mongo_url": f"mongodb://127.0.0.1:{mongo_port}/test_{unique}",
        "redis_url": f"redis://127.0.0.1:{redis_port}/0",
        "cache_prefix": f"test-{unique}",
        "jwt_keys": {TEST_JWT_KID: TEST_JWT_SECRET},
        "jwt_current_kid": TEST_JWT_KID,
        "health_detailed_token": TEST_HEALTH_TOKEN,
        "s3_bucket": TEST_BUCKET,
        "aws_region": "eu-west-1",
        "create_indexes_on_startup": False,
        "access_log_enabled": True,
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and talk to it in-process, as polar's tests do."""
    async with (
        LifespanManager(app, startup_timeout=20, shutdown_timeout=20) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver") as client,
    ):
        yield client


def bearer_token(
    user_id: str, *, secret: str = TEST_JWT_SECRET, kid: str | None = TEST_JWT_KID, expires_in: int = 300
) -> dict[str, str]:
    """A token as Contentry's auth issues it: its key named in the header (`kid`; None leaves it out)."""
    claims = {"sub": user_id, "exp": int(time.time()) + expires_in}
    headers = {"kid": kid} if kid is not None else None
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256', headers=headers)}"}


def health_token_header() -> dict[str, str]:
    return {"X-Health-Token": TEST_HEALTH_TOKEN}


class DependencySpy(monitoring.CommandListener):
    """Records every use of a dependency the app makes: a MongoDB command, a Redis command, a readiness probe.

    `install` patches the classes for one test (monkeypatch undoes it), so it sees the clients the app builds
    itself. A test then asserts on what was called, which a loaded machine cannot change, instead of on how
    long a request took.
    """

    def __init__(self) -> None:
        self.calls: list[str] = []

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> "DependencySpy":
        import app.core.mongo

        spy = cls()
        mongo_client = app.core.mongo.AsyncMongoClient

        def mongo_client_with_spy(*args: Any, event_listeners: Any = (), **kwargs: Any) -> Any:
            return mongo_client(*args, event_listeners=[*event_listeners, spy], **kwargs)

        def spied(name: str, method: Any) -> Any:
            async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
                spy.calls.append(name if not args else f"{name} {args[0]}")
                return await method(self, *args, **kwargs)

            return wrapper

        monkeypatch.setattr(app.core.mongo, "AsyncMongoClient", mongo_client_with_spy)
        monkeypatch.setattr(Redis, "execute_command", spied("redis", Redis.execute_command))
        monkeypatch.setattr(ReadinessProbe, "report", spied("readiness.report", ReadinessProbe.report))
        monkeypatch.setattr(ReadinessProbe, "check_now", spied("readiness.check_now", ReadinessProbe.check_now))
        return spy

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.calls.append(f"mongodb {event.command_name}")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


class FakeClock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def freeze_rate_limit_clock(monkeypatch: pytest.MonkeyPatch, clock: FakeClock | None = None) -> FakeClock:
    """Give the rate limiters the app builds a fake clock (in place of Redis's own): a bucket refills when the
    test advances it, so every count and Retry-After a test asserts is exact. Apps built while the patch holds
    share `clock`, as instances share Redis's."""
    import app.resources
    from app.services.rate_limit import RateLimiter

    fake = clock or FakeClock()

    class RateLimiterOnFakeClock(RateLimiter):
        @classmethod
        def from_settings(cls, redis: Any, settings: Settings, breaker: Any, clock: Any = None) -> RateLimiter:
            return RateLimiter.from_settings(redis, settings, breaker, clock=fake)

    monkeypatch.setattr(app.resources, "RateLimiter", RateLimiterOnFakeClock)
    return fake


def freeze_breaker_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Give the circuit breakers the app builds a fake clock: a cooldown then ends when the test advances it,
    never because the machine was slow."""
    import app.resources
    from app.services.circuit_breaker import CircuitBreaker

    clock = FakeClock()

    def breaker_on_fake_clock(**kwargs: Any) -> CircuitBreaker:
        return CircuitBreaker(**kwargs, clock=clock)

    monkeypatch.setattr(app.resources, "CircuitBreaker", breaker_on_fake_clock)
    return clock
