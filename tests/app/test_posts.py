"""GET /api/posts: pagination, validation, caching, and the index behind the query."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from app.core.config import Settings
from app.indexes import ensure_indexes
from app.main import create_app
from app.schemas.posts import PostPage
from app.services.posts import user_posts_cursor
from tests.app.support import serve

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


async def seed_posts(settings: Settings, user_id: str, count: int, **extra: Any) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url.get_secret_value())
    try:
        await client.get_database(settings.mongo_database).posts.insert_many(
            [
                {
                    "user_id": user_id,
                    "enterprise_id": "ent-1",
                    "content": f"post {index}",
                    "status": "published",
                    "created_at": NOW - timedelta(minutes=index),
                    "internal_notes": "never returned",
                    **extra,
                }
                for index in range(count)
            ]
        )
    finally:
        await client.close()


async def test_pages_are_newest_first_with_has_more(client: httpx.AsyncClient, settings: Settings) -> None:
    await seed_posts(settings, "user-a", 25)
    await seed_posts(settings, "user-b", 3)

    first = await client.get("/api/posts", params={"user_id": "user-a", "page_size": 10})
    third = await client.get("/api/posts", params={"user_id": "user-a", "page": 3, "page_size": 10})

    assert first.status_code == 200
    body = first.json()
    assert [item["content"] for item in body["items"]] == [f"post {index}" for index in range(10)]
    assert body["has_more"] is True
    assert {item["user_id"] for item in body["items"]} == {"user-a"}
    assert "internal_notes" not in body["items"][0]
    assert datetime.fromisoformat(body["items"][0]["created_at"]) == NOW
    last = third.json()
    assert [item["content"] for item in last["items"]] == [f"post {index}" for index in range(20, 25)]
    assert last["has_more"] is False


async def test_an_unknown_user_gets_an_empty_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/posts", params={"user_id": "nobody"})
    assert response.status_code == 200
    assert response.json() == {"items": [], "page": 1, "page_size": 20, "has_more": False}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "user_id"),
        ({"user_id": "has spaces"}, "user_id"),
        ({"user_id": "x" * 65}, "user_id"),
        ({"user_id": "u", "page": 0}, "page"),
        ({"user_id": "u", "page": 501}, "page"),
        ({"user_id": "u", "page_size": 0}, "page_size"),
        ({"user_id": "u", "page_size": 101}, "page_size"),
        ({"user_id": "u", "page": "two"}, "page"),
    ],
)
async def test_invalid_queries_are_422_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, str | int], field: str
) -> None:
    response = await client.get("/api/posts", params=params)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


async def test_second_read_is_served_from_the_cache(client: httpx.AsyncClient, settings: Settings) -> None:
    await seed_posts(settings, "cached-user", 2)
    first = await client.get("/api/posts", params={"user_id": "cached-user"})
    # A write the cache does not know about yet: the cached page must still be served until its TTL ends.
    await seed_posts(settings, "cached-user", 1)
    second = await client.get("/api/posts", params={"user_id": "cached-user"})

    assert first.headers["x-cache"] == "miss"
    assert second.headers["x-cache"] == "hit"
    assert second.json() == first.json()
    assert second.content == first.content, "a hit sends the stored bytes: the same JSON as the miss"
    assert second.headers["content-type"] == "application/json"
    assert len(second.json()["items"]) == 2
    PostPage.model_validate_json(second.content)


async def test_each_page_and_size_is_cached_separately(client: httpx.AsyncClient, settings: Settings) -> None:
    await seed_posts(settings, "paged-user", 5)
    small = await client.get("/api/posts", params={"user_id": "paged-user", "page_size": 2})
    large = await client.get("/api/posts", params={"user_id": "paged-user", "page_size": 4})
    assert small.headers["x-cache"] == large.headers["x-cache"] == "miss"
    assert len(small.json()["items"]) == 2
    assert len(large.json()["items"]) == 4


async def test_without_a_cache_every_read_goes_to_mongodb(settings: Settings, s3: None) -> None:
    await seed_posts(settings, "uncached-user", 1)
    async with serve(create_app(settings.model_copy(update={"cache_enabled": False}))) as client:
        first = await client.get("/api/posts", params={"user_id": "uncached-user"})
        await seed_posts(settings, "uncached-user", 1)
        second = await client.get("/api/posts", params={"user_id": "uncached-user"})
    assert first.headers["x-cache"] == second.headers["x-cache"] == "bypass"
    assert len(second.json()["items"]) == 2


async def test_the_query_is_served_by_the_user_id_created_at_index(settings: Settings) -> None:
    await seed_posts(settings, "indexed-user", 30)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url.get_secret_value())
    try:
        db = client.get_database(settings.mongo_database)
        await ensure_indexes(db)
        plan = await user_posts_cursor(db, "indexed-user", page=2, page_size=10).explain()
    finally:
        await client.close()
    stages = _stages(plan["queryPlanner"]["winningPlan"])
    index_scans = [stage for stage in stages if stage.get("stage") == "IXSCAN"]
    assert [scan["indexName"] for scan in index_scans] == ["user_id_1_created_at_-1"]
    assert "COLLSCAN" not in {stage.get("stage") for stage in stages}


def _stages(plan: dict[str, Any]) -> list[dict[str, Any]]:
    stages = [plan]
    for key in ("inputStage", "queryPlan"):
        if isinstance(plan.get(key), dict):
            stages.extend(_stages(plan[key]))
    for child in plan.get("inputStages", []):
        stages.extend(_stages(child))
    return stages
