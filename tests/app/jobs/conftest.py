"""The jobs tests' servers: the session's Redis and MongoDB, moto's S3 as a threaded server the worker reaches
over HTTP, and ONE real worker process for the session (its startup is the slow part; moto keeps its state per process,
so one bucket and one worker serve every jobs test)."""

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from moto.server import ThreadedMotoServer
from pymongo import MongoClient
from pymongo.database import Database

from app.core.config import Settings
from app.main import create_app
from tests.app.jobs.support import (
    AWS_TEST_CREDENTIALS,
    FAST_JOB_SETTINGS,
    WorkerProcess,
    celery_for,
    create_bucket,
    worker_environment,
)
from tests.app.support import TEST_BUCKET, ServerProcess, free_port, make_settings, serve


@dataclass(frozen=True)
class JobsStack:
    """Where the module's worker and the app under test meet: one database, one broker, one bucket."""

    mongo_url: str
    redis_url: str
    s3_endpoint: str
    worker_env: dict[str, str]
    worker_log: Path

    def settings(self, mongo_port: int, redis_port: int, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "mongo_url": self.mongo_url,
            "redis_url": self.redis_url,
            "s3_endpoint_url": self.s3_endpoint,
            "rate_limit_enabled": False,
            **{name.lower(): value for name, value in FAST_JOB_SETTINGS.items()},
            **overrides,
        }
        return make_settings(mongo_port, redis_port, **values)


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    create_bucket(endpoint)
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(scope="session")
def jobs_stack(
    mongo_server: ServerProcess, redis_server: ServerProcess, moto_s3: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JobsStack]:
    # Database 3 of the session's Redis: the queue `jobs` of this module, apart from the other tests' cache keys.
    redis_url = f"redis://127.0.0.1:{redis_server.port}/3"
    mongo_url = f"mongodb://127.0.0.1:{mongo_server.port}/jobs_{uuid.uuid4().hex[:12]}"
    env = worker_environment(
        {
            "MONGO_URL": mongo_url,
            "REDIS_URL": redis_url,
            "S3_BUCKET": TEST_BUCKET,
            "S3_ENDPOINT_URL": moto_s3,
            "LOG_LEVEL": "INFO",
            **FAST_JOB_SETTINGS,
        }
    )
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    stack = JobsStack(mongo_url=mongo_url, redis_url=redis_url, s3_endpoint=moto_s3, worker_env=env, worker_log=log)
    worker = WorkerProcess(env, log)
    celery = celery_for(stack.settings(mongo_server.port, redis_server.port))
    with worker.running(celery):
        yield stack
    celery.close()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AWS_TEST_CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def jobs_settings(
    jobs_stack: JobsStack, mongo_server: ServerProcess, redis_server: ServerProcess, aws_credentials: None
) -> Settings:
    return jobs_stack.settings(mongo_server.port, redis_server.port)


@pytest.fixture
async def jobs_client(jobs_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(jobs_settings)) as client:
        yield client


@pytest.fixture
def jobs_db(jobs_settings: Settings) -> Iterator[Database[dict[str, Any]]]:
    client: MongoClient[dict[str, Any]] = MongoClient(jobs_settings.mongo_url.get_secret_value(), tz_aware=True)
    try:
        yield client.get_database(jobs_settings.mongo_database)
    finally:
        client.close()


@pytest.fixture
def worker_log(tmp_path: Path) -> Path:
    return tmp_path / "worker.log"
