"""The seed's indexes: exactly those, created idempotently, safely in parallel, and from the command line."""

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from app.indexes import INDEXES, IndexConflictError, IndexSpec, ensure_indexes
from app.resources import create_indexes_at_startup
from tests.app.support import REPO_ROOT, ServerProcess, free_port

pytestmark = pytest.mark.anyio

# Written out independently of app/indexes.py, from the seed's list: (collection, keys, unique).
SEED_INDEXES = {
    ("users", (("email", 1),), True),
    ("users", (("enterprise_id", 1),), False),
    ("users", (("created_at", -1),), False),
    ("posts", (("user_id", 1), ("created_at", -1)), False),
    ("posts", (("enterprise_id", 1), ("created_at", -1)), False),
    ("posts", (("status", 1),), False),
    ("posts", (("scheduled_time", 1),), False),
    ("credit_transactions", (("user_id", 1), ("created_at", -1)), False),
    ("credit_transactions", (("action", 1), ("created_at", -1)), False),
    ("content_analyses", (("user_id", 1), ("created_at", -1)), False),
    ("content_analyses", (("enterprise_id", 1),), False),
    ("user_credits", (("user_id", 1),), True),
    ("user_credits", (("plan", 1),), False),
    ("notifications", (("user_id", 1), ("read", 1), ("created_at", -1)), False),
    ("jobs", (("status", 1), ("created_at", -1)), False),
    ("jobs", (("user_id", 1), ("status", 1)), False),
}


@pytest.fixture
async def db(mongo_server: ServerProcess) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(f"mongodb://127.0.0.1:{mongo_server.port}")
    try:
        yield client.get_database(f"idx_{uuid.uuid4().hex[:12]}")
    finally:
        await client.close()


async def indexes_in(db: AsyncDatabase[dict[str, Any]]) -> set[tuple[str, tuple[tuple[str, int], ...], bool]]:
    found = set()
    for collection in await db.list_collection_names():
        async for index in await db[collection].list_indexes():
            if index["name"] == "_id_":
                continue
            keys = tuple((field, int(direction)) for field, direction in index["key"].items())
            found.add((collection, keys, bool(index.get("unique", False))))
    return found


def test_the_specification_is_the_seeds_list() -> None:
    assert {(spec.collection, spec.keys, spec.unique) for spec in INDEXES} == SEED_INDEXES
    assert len(INDEXES) == len(SEED_INDEXES)


async def test_ensure_indexes_creates_exactly_the_seeds_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    ensured = await ensure_indexes(db)
    assert await indexes_in(db) == SEED_INDEXES
    assert ensured["posts"] == [
        "user_id_1_created_at_-1",
        "enterprise_id_1_created_at_-1",
        "status_1",
        "scheduled_time_1",
    ]


async def test_unique_indexes_are_enforced(db: AsyncDatabase[dict[str, Any]]) -> None:
    await ensure_indexes(db)
    await db.users.insert_one({"email": "ada@example.com"})
    with pytest.raises(DuplicateKeyError):
        await db.users.insert_one({"email": "ada@example.com"})
    await db.user_credits.insert_one({"user_id": "u1", "plan": "pro"})
    with pytest.raises(DuplicateKeyError):
        await db.user_credits.insert_one({"user_id": "u1", "plan": "free"})


async def test_running_it_again_changes_nothing(db: AsyncDatabase[dict[str, Any]]) -> None:
    await ensure_indexes(db)
    await ensure_indexes(db)
    assert await indexes_in(db) == SEED_INDEXES


async def test_many_workers_at_once_all_succeed(mongo_server: ServerProcess) -> None:
    database = f"idx_{uuid.uuid4().hex[:12]}"
    clients: list[AsyncMongoClient[dict[str, Any]]] = [
        AsyncMongoClient(f"mongodb://127.0.0.1:{mongo_server.port}") for _ in range(8)
    ]
    try:
        results = await asyncio.gather(*(ensure_indexes(client.get_database(database)) for client in clients))
        assert len(results) == 8
        assert await indexes_in(clients[0].get_database(database)) == SEED_INDEXES
    finally:
        await asyncio.gather(*(client.close() for client in clients))


async def test_an_existing_index_under_another_name_is_kept(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db.posts.create_index([("user_id", 1), ("created_at", -1)], name="seed_posts_by_user")
    await ensure_indexes(db)
    names = {index["name"] async for index in await db.posts.list_indexes()}
    assert "seed_posts_by_user" in names
    assert "user_id_1_created_at_-1" not in names
    assert await indexes_in(db) == SEED_INDEXES


async def test_a_name_taken_by_other_keys_is_a_conflict_for_a_person(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db.jobs.create_index([("status", 1)], name="status_1_created_at_-1")
    with pytest.raises(IndexConflictError, match=r"jobs\.status_1_created_at_-1"):
        await ensure_indexes(db, (IndexSpec("jobs", (("status", 1), ("created_at", -1))),))


async def test_startup_creation_gives_up_quietly_when_mongodb_never_answers() -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{free_port()}", serverSelectionTimeoutMS=100
    )
    try:
        created = await create_indexes_at_startup(client.get_database("x"), attempts=2, retry_seconds=0.01)
    finally:
        await client.close()
    assert created is False


def run_cli(mongo_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key.upper() != "MONGO_URL"}
    env["MONGO_URL"] = mongo_url
    return subprocess.run(
        [sys.executable, "-m", "app.indexes", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_python_m_app_indexes_creates_them(mongo_server: ServerProcess) -> None:
    database = f"cli_{uuid.uuid4().hex[:12]}"
    result = await asyncio.to_thread(run_cli, f"mongodb://127.0.0.1:{mongo_server.port}/{database}")
    assert result.returncode == 0, result.stderr + result.stdout
    summary = json.loads(result.stdout[result.stdout.index("{\n") :])
    assert summary["database"] == database
    assert sum(len(names) for names in summary["indexes"].values()) == len(SEED_INDEXES)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(f"mongodb://127.0.0.1:{mongo_server.port}")
    try:
        assert await indexes_in(client.get_database(database)) == SEED_INDEXES
    finally:
        await client.close()


async def test_python_m_app_indexes_fails_cleanly_without_mongodb() -> None:
    result = await asyncio.to_thread(run_cli, f"mongodb://127.0.0.1:{free_port()}/x", "--timeout", "2")
    assert result.returncode == 1
    assert "index creation failed" in result.stdout
