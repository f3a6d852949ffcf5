"""Fixtures for the app's tests. The shared servers live for the whole session; the fault tests start private
ones they are free to stop. Helpers are in support.py."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from moto import mock_aws

from app.core.config import Settings
from app.main import create_app
from tests.app.support import (
    TEST_BUCKET,
    ServerProcess,
    make_settings,
    mongo_server_process,
    redis_server_process,
    serve,
)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with redis_server_process(tmp_path_factory.mktemp("redis")).running() as server:
        yield server


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with mongo_server_process(tmp_path_factory.mktemp("mongo")).running() as server:
        yield server


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[ServerProcess]:
    """A Redis of this test's own, which it may stop, pause and restart."""
    with redis_server_process(tmp_path).running() as server:
        yield server


@pytest.fixture
def private_mongo(tmp_path: Path) -> Iterator[ServerProcess]:
    """A MongoDB of this test's own, which it may stop and restart (its data survives)."""
    with mongo_server_process(tmp_path).running() as server:
        yield server


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment: make sure a developer's or CI's variables cannot leak into a test."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def settings(mongo_server: ServerProcess, redis_server: ServerProcess) -> Settings:
    return make_settings(mongo_server.port, redis_server.port)


@pytest.fixture
def s3() -> Iterator[None]:
    """moto's S3, with the test bucket; it also supplies fake credentials for signing."""
    with mock_aws():
        from boto3.session import Session

        Session().client("s3", region_name="eu-west-1").create_bucket(
            Bucket=TEST_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield


@pytest.fixture
def app(settings: Settings, s3: None) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app) as client:
        yield client
