"""The contract command itself: `gunicorn -c app/gunicorn.conf.py app.main:app`, two workers, real servers."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.app.support import REPO_ROOT, TEST_HEALTH_TOKEN, TEST_JWT_SECRET, ServerProcess, free_port

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT_SECONDS = 30.0


@pytest.fixture
def gunicorn(
    mongo_server: ServerProcess, redis_server: ServerProcess, tmp_path: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    env = {name: value for name, value in os.environ.items() if not name.startswith(("GUNICORN_", "WEB_"))}
    env.update(
        {
            "APP_ENV": "production",
            "MONGO_URL": f"mongodb://127.0.0.1:{mongo_server.port}/gunicorn_test",
            "REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
            "JWT_SECRET": TEST_JWT_SECRET,
            "HEALTH_DETAILED_TOKEN": TEST_HEALTH_TOKEN,
            "S3_BUCKET": "contentry-test-uploads",
            "AWS_REGION": "eu-west-1",
            "CDN_DOMAIN": "",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
        }
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "app/gunicorn.conf.py", "app.main:app"],
            cwd=REPO_ROOT,
            env=env,
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


def test_gunicorn_serves_the_app_and_stops_gracefully(
    gunicorn: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    base_url, process, log_path = gunicorn
    with httpx.Client(base_url=base_url, timeout=5) as client:
        assert client.get("/api/health/ready").json()["status"] == "ready"
        detailed = client.get("/api/health/detailed", headers={"X-Health-Token": TEST_HEALTH_TOKEN})
        assert detailed.json()["environment"] == "production"
        assert client.get("/docs").status_code == 404, "no interactive docs in production"

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
    assert TEST_HEALTH_TOKEN not in log_path.read_text()
    assert TEST_JWT_SECRET not in log_path.read_text()
