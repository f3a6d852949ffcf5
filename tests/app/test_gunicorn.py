"""The contract command itself: `gunicorn -c app/gunicorn.conf.py app.main:app`, two workers, real servers."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.app.support import (
    HANG_GUARD_SECONDS,
    REPO_ROOT,
    TEST_HEALTH_TOKEN,
    TEST_JWT_KID,
    TEST_JWT_SECRET,
    ServerProcess,
    bearer_token,
    free_port,
)

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT_SECONDS = 30.0


GunicornProcess = tuple[str, subprocess.Popen[bytes], Path]


@contextlib.contextmanager
def running_gunicorn(
    mongo_port: int, redis_port: int, log_path: Path, *, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> Iterator[GunicornProcess]:
    """The contract command (`gunicorn -c app/gunicorn.conf.py app.main:app`), plus any extra variables or
    command-line settings (which gunicorn lets override the config file)."""
    port = free_port()
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("GUNICORN_", "WEB_"))}
    environment.update(
        {
            "APP_ENV": "production",
            "MONGO_URL": f"mongodb://127.0.0.1:{mongo_port}/gunicorn_test",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "JWT_KEYS": json.dumps({TEST_JWT_KID: TEST_JWT_SECRET}),
            "JWT_CURRENT_KID": TEST_JWT_KID,
            "HEALTH_DETAILED_TOKEN": TEST_HEALTH_TOKEN,
            "S3_BUCKET": "contentry-test-uploads",
            "AWS_REGION": "eu-west-1",
            "CDN_DOMAIN": "",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
            **(env or {}),
        }
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "app/gunicorn.conf.py", *args, "app.main:app"],
            cwd=REPO_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{base_url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail(f"gunicorn did not start:\n{log_path.read_text()[-3000:]}")
        yield base_url, process, log_path
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def gunicorn(mongo_server: ServerProcess, redis_server: ServerProcess, tmp_path: Path) -> Iterator[GunicornProcess]:
    with running_gunicorn(mongo_server.port, redis_server.port, tmp_path / "gunicorn.log") as server:
        yield server


def test_gunicorn_serves_the_app_and_stops_gracefully(gunicorn: GunicornProcess) -> None:
    base_url, process, log_path = gunicorn
    with httpx.Client(base_url=base_url, timeout=5) as client:
        assert client.get("/api/health/ready").json()["status"] == "ready"
        detailed = client.get("/api/health/detailed", headers={"X-Health-Token": TEST_HEALTH_TOKEN})
        assert detailed.json()["environment"] == "production"
        assert client.get("/docs").status_code == 404, "no interactive docs in production"
        # As the ALB forwards it: the client's own claim first, the address the ALB saw appended last.
        client.get("/api/health/live", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})

    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(timeout=35) == 0

    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line gunicorn and the app wrote is JSON
    messages = {record["message"] for record in records}
    assert "Booting worker with pid: " in " ".join(messages)
    assert sum(1 for record in records if record["message"] == "started") == 2, "two workers ran the lifespan"
    assert sum(1 for record in records if record["message"] == "stopped") == 2, "both closed their clients"
    access = [record for record in records if record["logger"] == "app.access"]
    assert {record["path"] for record in access} >= {"/api/health/ready", "/api/health/detailed"}
    assert all(record["request_id"] for record in access)
    [forwarded] = [record for record in access if record["path"] == "/api/health/live"]
    assert forwarded["client_ip"] == "203.0.113.7"
    assert TEST_HEALTH_TOKEN not in log_path.read_text()
    assert TEST_JWT_SECRET not in log_path.read_text()


def test_uvicorn_never_takes_the_client_from_the_header(
    mongo_server: ServerProcess, redis_server: ServerProcess, tmp_path: Path
) -> None:
    """With no trusted proxy the peer is the client, whatever X-Forwarded-For says: uvicorn's own proxy-header
    handling (which took the header's leftmost entry, the client's claim) is off; only the app reads it."""
    log_path = tmp_path / "gunicorn.log"
    env = {"TRUSTED_PROXY_HOPS": "0"}
    with running_gunicorn(mongo_server.port, redis_server.port, log_path, env=env) as (base_url, process, _):
        httpx.get(f"{base_url}/api/health/live", headers={"X-Forwarded-For": "6.6.6.6"}, timeout=5)
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=35) == 0
    records = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    [line] = [record for record in records if record.get("path") == "/api/health/live"]
    assert line["client_ip"] == "127.0.0.1"


def connect(base_url: str) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=HANG_GUARD_SECONDS)
    # The hang guard: a recv that the server never ends fails the test after this long instead of hanging it.
    sock.settimeout(HANG_GUARD_SECONDS)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection. A server that never closes it makes recv
    time out (the hang guard), which fails the test."""
    received = b""
    while chunk := sock.recv(65_536):
        received += chunk
    return received


@pytest.fixture
def strict_gunicorn(
    mongo_server: ServerProcess, redis_server: ServerProcess, tmp_path: Path
) -> Iterator[GunicornProcess]:
    """Short client deadlines (1 s) and keep-alive (--keep-alive 2 on the command line overrides the config's
    floor, which exists for the ALB), so a test needs to wait only seconds for each to end a connection."""
    env = {"GUNICORN_HEADER_TIMEOUT": "1", "GUNICORN_BODY_TIMEOUT": "1"}
    with running_gunicorn(
        mongo_server.port, redis_server.port, tmp_path / "gunicorn.log", env=env, args=("--keep-alive", "2")
    ) as server:
        yield server


def test_a_connection_that_sends_nothing_is_closed(strict_gunicorn: GunicornProcess) -> None:
    with connect(strict_gunicorn[0]) as sock:
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_unfinished_headers_are_cut_off(strict_gunicorn: GunicornProcess) -> None:
    with connect(strict_gunicorn[0]) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_body_that_never_finishes_is_cut_off(strict_gunicorn: GunicornProcess) -> None:
    # Authenticated and under the size limit, so the app waits for the body: only the deadline can end this.
    token = bearer_token("user-1")["Authorization"]
    request = (
        "POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: {token}\r\nContent-Length: 1000\r\n\r\n"
    )
    with connect(strict_gunicorn[0]) as sock:
        sock.sendall(request.encode() + b'{"filename"')
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_huge_declared_body_is_refused_without_reading_it(strict_gunicorn: GunicornProcess) -> None:
    request = (
        "POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {10 * 1024**3}\r\n\r\n"
    )
    with connect(strict_gunicorn[0]) as sock:
        sock.sendall(request.encode() + b"0123456789")
        answer = read_until_closed(sock)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in rest.lower()


def test_an_idle_keep_alive_connection_is_closed(strict_gunicorn: GunicornProcess) -> None:
    with connect(strict_gunicorn[0]) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = read_until_closed(sock)  # the response, then nothing until the keep-alive timeout closes it
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert answer.count(b"HTTP/1.1") == 1


RECYCLES_WANTED = 3
MAX_REQUESTS_PER_CLIENT = 2_000
"""A hang guard, not a timing: four clients stop as soon as three recycles have happened."""


def test_worker_recycles_drop_no_request(
    mongo_server: ServerProcess, redis_server: ServerProcess, tmp_path: Path
) -> None:
    """Workers recycle every 60 requests while four keep-alive clients send requests back to back. Before, each
    recycle closed the idle keep-alive connections under clients already sending on them (read errors, 502s
    behind an ALB); now their next request is answered with Connection: close."""
    env = {"GUNICORN_MAX_REQUESTS": "60", "GUNICORN_MAX_REQUESTS_JITTER": "0"}
    errors: list[str] = []
    pids: set[int] = set()
    statuses: list[int] = []
    # How many recycles a fixed number of requests causes depends on the machine's speed (uvicorn checks its
    # limit on a 0.1 s tick); so the clients go on until the fleet has recycled several times, then stop.
    recycled_enough = threading.Event()
    workers_wanted = 2 + RECYCLES_WANTED

    with running_gunicorn(mongo_server.port, redis_server.port, tmp_path / "gunicorn.log", env=env) as server:
        base_url, _, log_path = server

        def client() -> None:
            with httpx.Client(base_url=base_url, timeout=HANG_GUARD_SECONDS) as http:
                for _ in range(MAX_REQUESTS_PER_CLIENT):
                    if recycled_enough.is_set():
                        return
                    try:
                        response = http.get("/api/health/live")
                    except httpx.TransportError as exc:
                        errors.append(repr(exc))
                        continue
                    statuses.append(response.status_code)
                    pids.add(response.json()["pid"])
                    if len(pids) >= workers_wanted:
                        recycled_enough.set()

        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        log = log_path.read_text()
    assert errors == []
    assert set(statuses) == {200}
    assert len(pids) >= workers_wanted, f"only {len(pids)} workers served {len(statuses)} requests"
    assert log.count("Maximum request limit") >= RECYCLES_WANTED, "the workers did recycle, several times"
