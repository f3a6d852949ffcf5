"""What the jobs tests share: a real worker process (`python -m app.jobs.worker`), moto's S3 as a server the
worker reaches over HTTP, and polling helpers with a hang guard (never a wall-clock assertion)."""

import asyncio
import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from boto3.session import Session
from celery import Celery
from PIL import Image

from app.core.config import Settings
from app.jobs.celery_app import create_celery
from tests.app.support import HANG_GUARD_SECONDS, REPO_ROOT, TEST_BUCKET

AWS_TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
REGION = "eu-west-1"
WORKER_START_GUARD_SECONDS = 90.0
# A job goes through a worker process and a MongoDB wire server written in Python: on a loaded 2-core machine a
# few seconds each. Still a hang guard, never an expectation of speed.
JOB_GUARD_SECONDS = 3 * HANG_GUARD_SECONDS
POLL_INTERVAL_SECONDS = 0.1
# The worker settings the module's tests run with: short backoffs, small batches.
FAST_JOB_SETTINGS = {
    "JOB_TIME_LIMIT_SECONDS": "20",
    "JOB_MAX_ATTEMPTS": "4",
    "JOB_RETRY_BACKOFF_SECONDS": "0.5",
    "JOB_RETRY_BACKOFF_MAX_SECONDS": "2",
    "BROKER_RESTORE_INTERVAL_SECONDS": "1",
    "NOTIFICATION_BATCH_SIZE": "3",
    "WORKER_CONCURRENCY": "2",
}


def worker_environment(settings: dict[str, str]) -> dict[str, str]:
    """The test process's environment without any of the app's settings (a developer's must not leak in), plus
    these settings."""
    names = {name.upper() for name in Settings.model_fields}
    base = {key: value for key, value in os.environ.items() if key.upper() not in names and not key.startswith("DD_")}
    return {**base, "PYTHONPATH": str(REPO_ROOT), **AWS_TEST_CREDENTIALS, "AWS_REGION": REGION, **settings}


@dataclass
class WorkerProcess:
    """`python -m app.jobs.worker` in a session of its own, so the whole worker (main process and pool) can be
    killed at once, as when its host dies."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, celery: Celery) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.jobs.worker"],
            env=self.env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        node = f"celery@{socket.gethostname()}"
        deadline = time.monotonic() + WORKER_START_GUARD_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if any(node in reply for reply in celery.control.ping(destination=[node], timeout=1.0) or []):
                return
        tail = self.log_path.read_text(errors="replace")[-3000:]
        self.kill()
        raise RuntimeError(f"the worker did not answer a ping:\n{tail}")

    def kill(self) -> None:
        """SIGKILL to the worker's whole process group: no warm shutdown, no message sent back."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM: Celery's warm shutdown; SIGKILL if it does not end in time."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
        self.kill()

    @contextlib.contextmanager
    def running(self, celery: Celery) -> Iterator["WorkerProcess"]:
        self.start(celery)
        try:
            yield self
        finally:
            self.stop()


def s3_client(endpoint: str) -> Any:
    return Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION).client(
        "s3", endpoint_url=endpoint
    )


def create_bucket(endpoint: str) -> None:
    s3_client(endpoint).create_bucket(Bucket=TEST_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})


def png_bytes(width: int = 800, height: int = 600) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 90)).save(out, format="PNG")
    return out.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def new_upload_key(user_id: str, filename: str = "photo.png") -> str:
    return f"uploads/{user_id}/2026/12/{uuid.uuid4().hex}/{filename}"


def celery_for(settings: Settings) -> Celery:
    return create_celery(settings)


async def poll(check: Callable[[], Awaitable[Any]], *, what: str, guard_seconds: float = HANG_GUARD_SECONDS) -> Any:
    """Call `check` until it returns something truthy; fail after the hang guard (a hang, not a slow machine)."""
    deadline = time.monotonic() + guard_seconds
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"hang guard: {what} did not happen within {guard_seconds} s")
        await asyncio.sleep(POLL_INTERVAL_SECONDS)


async def job_when(
    client: httpx.AsyncClient,
    job_id: str,
    headers: dict[str, str],
    condition: Callable[[dict[str, Any]], bool],
    *,
    guard_seconds: float = JOB_GUARD_SECONDS,
) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        response = await client.get(f"/api/jobs/{job_id}", headers=headers)
        assert response.status_code == 200, response.text
        job = response.json()
        return job if condition(job) else None

    return await poll(check, what=f"job {job_id} reaching the expected state", guard_seconds=guard_seconds)


def finished(job: dict[str, Any]) -> bool:
    return job["status"] in ("succeeded", "failed")
