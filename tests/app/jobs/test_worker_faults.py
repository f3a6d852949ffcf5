"""Faults: a worker killed mid-task, a broker that is down, and the worker's health check.

The killed-worker test runs its own Redis, its own moto server (a subprocess it can pause, so the task is
provably in the middle of reading its file when the worker dies) and its own workers."""

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pymongo import MongoClient

from app.core.config import Settings
from app.main import create_app
from app.services.storage import upload_id
from tests.app.jobs.conftest import JobsStack
from tests.app.jobs.support import (
    FAST_JOB_SETTINGS,
    WorkerProcess,
    celery_for,
    create_bucket,
    finished,
    new_upload_key,
    png_bytes,
    poll,
    s3_client,
    worker_environment,
)
from tests.app.support import (
    HANG_GUARD_SECONDS,
    REPO_ROOT,
    TEST_BUCKET,
    ServerProcess,
    bearer_token,
    free_port,
    make_settings,
    serve,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

# The killed worker's message comes back once older than the visibility timeout: kept short here, and still
# above the hard time limit plus the longest retry wait, as the settings require.
KILL_TEST_SETTINGS = {
    **FAST_JOB_SETTINGS,
    "JOB_TIME_LIMIT_SECONDS": "10",
    "JOB_RETRY_BACKOFF_MAX_SECONDS": "1",
    "BROKER_VISIBILITY_TIMEOUT_SECONDS": "12",
    "BROKER_RESTORE_INTERVAL_SECONDS": "1",
}


def moto_server_process(workdir: Path) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    return ServerProcess("moto", argv, port, workdir / f"moto-{port}.log")


async def test_a_worker_killed_mid_task_loses_no_job(
    tmp_path: Path, mongo_server: ServerProcess, private_redis: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with moto_server_process(tmp_path).running() as moto:
        endpoint = f"http://127.0.0.1:{moto.port}"
        create_bucket(endpoint)
        settings = make_settings(
            mongo_server.port,
            private_redis.port,
            s3_endpoint_url=endpoint,
            rate_limit_enabled=False,
            **{name.lower(): value for name, value in KILL_TEST_SETTINGS.items()},
        )
        env = worker_environment(
            {
                "MONGO_URL": settings.mongo_url.get_secret_value(),
                "REDIS_URL": settings.redis_url.get_secret_value(),
                "S3_BUCKET": TEST_BUCKET,
                "S3_ENDPOINT_URL": endpoint,
                **KILL_TEST_SETTINGS,
            }
        )
        user = "killed-worker-user"
        key = new_upload_key(user)
        s3_client(endpoint).put_object(Bucket=TEST_BUCKET, Key=key, Body=png_bytes(100, 100), ContentType="image/png")
        celery = celery_for(settings)
        jobs: MongoClient[dict[str, Any]] = MongoClient(settings.mongo_url.get_secret_value())
        collection = jobs.get_database(settings.mongo_database)["jobs"]
        first = WorkerProcess(env, tmp_path / "worker-1.log")
        try:
            first.start(celery)
            async with serve(create_app(settings)) as client:
                moto.pause()  # the task will hang reading the file: provably mid-task
                response = await client.post(f"/api/uploads/{upload_id(key)}/complete", headers=bearer_token(user))
                assert response.status_code == 202, response.text
                job_id = response.json()["job"]["id"]

                async def running() -> bool:
                    job = collection.find_one({"_id": job_id})
                    return job is not None and job["status"] == "running"

                await poll(running, what="the first worker starting the job")
                first.kill()  # the whole worker, as when its host dies: nothing is acknowledged or sent back
                moto.resume()
                orphaned = collection.find_one({"_id": job_id})
                assert orphaned is not None
                assert orphaned["status"] == "running"

                with WorkerProcess(env, tmp_path / "worker-2.log").running(celery):

                    async def done() -> dict[str, Any] | None:
                        job = collection.find_one({"_id": job_id})
                        return job if job is not None and finished({"status": job["status"]}) else None

                    # Redelivery waits for the visibility timeout (12 s) and a restore sweep (every 1 s).
                    job = await poll(
                        done, what="the job redelivered and finished", guard_seconds=4 * HANG_GUARD_SECONDS
                    )
            assert job["status"] == "succeeded", job
            assert job["attempts"] == 2, "the second worker ran the job again after the first died"
            assert job["result"]["thumbnail_key"].endswith(".jpg")
        finally:
            first.kill()
            celery.close()
            jobs.close()


async def test_broker_down_enqueueing_answers_503_and_reads_keep_working(
    mongo_server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis.connection

    closed_port = free_port()  # nothing listens: every connection is refused
    settings = make_settings(mongo_server.port, closed_port, broker_publish_max_retries=2)
    connects = 0
    real_connect = redis.connection.AbstractConnection.connect

    def counting_connect(self: Any) -> None:
        nonlocal connects
        connects += 1
        real_connect(self)

    monkeypatch.setattr(redis.connection.AbstractConnection, "connect", counting_connect)
    user = "broker-down-user"
    key = new_upload_key(user)
    async with serve(create_app(settings)) as client:
        with pytest.MonkeyPatch.context():
            response = await client.post(f"/api/uploads/{upload_id(key)}/complete", headers=bearer_token(user))
        health = await client.get("/api/health/ready")
        posts = await client.get("/api/posts", params={"user_id": user})

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "job queue is unavailable" in response.json()["detail"]
    assert "nothing was queued" in response.json()["detail"]
    # Bounded: the publish gave up after its retries instead of hanging on the broker.
    assert 1 <= connects <= 3 * (settings.broker_publish_max_retries + 1), connects
    # Nothing was left queued for a worker that will never get it.
    mongo: MongoClient[dict[str, Any]] = MongoClient(settings.mongo_url.get_secret_value())
    try:
        assert mongo.get_database(settings.mongo_database)["jobs"].count_documents({}) == 0
    finally:
        mongo.close()
    # Reads do not need the broker (or the cache, the same Redis: the cache falls back to MongoDB).
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert posts.status_code == 200


def healthcheck(env: dict[str, str]) -> int:
    return subprocess.run(
        [sys.executable, "-m", "app.jobs.healthcheck"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=4 * HANG_GUARD_SECONDS,
        check=False,
    ).returncode


def test_the_healthcheck_passes_only_while_the_worker_on_this_host_answers(jobs_stack: JobsStack) -> None:
    assert healthcheck(jobs_stack.worker_env) == 0
    # Another Redis database: the same host name, but no worker listens there.
    elsewhere = {**jobs_stack.worker_env, "REDIS_URL": jobs_stack.redis_url.rsplit("/", 1)[0] + "/9"}
    assert healthcheck(elsewhere) == 1
    broker_down = {**jobs_stack.worker_env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    assert healthcheck(broker_down) == 1


def test_sigterm_is_a_warm_shutdown(jobs_stack: JobsStack, tmp_path: Path, redis_server: ServerProcess) -> None:
    """The worker exits by itself, cleanly, on SIGTERM (no running task here: the shutdown path itself)."""
    env = {**jobs_stack.worker_env, "REDIS_URL": jobs_stack.redis_url.rsplit("/", 1)[0] + "/10"}
    settings = Settings(redis_url=SecretStr(env["REDIS_URL"]))
    worker = WorkerProcess(env, tmp_path / "worker.log")
    celery = celery_for(settings)
    worker.start(celery)
    assert worker.process is not None
    process = worker.process
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=4 * HANG_GUARD_SECONDS) == 0
    worker.process = None
    celery.close()
    assert "Warm shutdown" in (tmp_path / "worker.log").read_text()
