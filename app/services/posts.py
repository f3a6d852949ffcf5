"""Reading a user's posts: newest first, page by page, served from the cache when it can be."""

from typing import Any

import pymongo
from pymongo import DESCENDING
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase

from app.core.mongo import MongoDocument
from app.schemas.posts import PostOut, PostPage
from app.services.cache import CacheResult, CacheService

POSTS_COLLECTION = "posts"
CACHE_NAMESPACE = "posts"
# Only what the API returns: smaller documents over the wire and in the cache.
_PROJECTION = {
    "_id": 1,
    "user_id": 1,
    "enterprise_id": 1,
    "content": 1,
    "status": 1,
    "created_at": 1,
    "scheduled_time": 1,
}


def user_posts_cursor(
    db: AsyncDatabase[MongoDocument], user_id: str, *, page: int, page_size: int
) -> AsyncCursor[MongoDocument]:
    """The query behind GET /api/posts. Equality on user_id and a sort on created_at is exactly the shape the
    (user_id, created_at) index serves without an in-memory sort. One extra document tells whether a next
    page exists."""
    return (
        db[POSTS_COLLECTION]
        .find({"user_id": user_id}, projection=_PROJECTION)
        .sort("created_at", DESCENDING)
        .skip((page - 1) * page_size)
        .limit(page_size + 1)
    )


def _to_post(document: dict[str, Any]) -> PostOut:
    return PostOut(
        id=str(document["_id"]),
        user_id=document["user_id"],
        enterprise_id=document.get("enterprise_id"),
        content=document.get("content") or "",
        status=document.get("status") or "draft",
        created_at=document["created_at"],
        scheduled_time=document.get("scheduled_time"),
    )


class PostService:
    def __init__(
        self,
        db: AsyncDatabase[MongoDocument],
        cache: CacheService,
        *,
        cache_ttl_seconds: int,
        query_timeout_seconds: float,
    ) -> None:
        self._db = db
        self._cache = cache
        self._cache_ttl = cache_ttl_seconds
        self._query_timeout = query_timeout_seconds

    async def list_for_user(self, user_id: str, *, page: int, page_size: int) -> CacheResult[PostPage]:
        async def load() -> PostPage:
            return await self.query_page(user_id, page=page, page_size=page_size)

        return await self._cache.get_or_compute(
            CACHE_NAMESPACE,
            f"user={user_id}:page={page}:size={page_size}",
            PostPage,
            load,
            ttl_seconds=self._cache_ttl,
        )

    async def query_page(self, user_id: str, *, page: int, page_size: int) -> PostPage:
        # A client-side deadline: with MongoDB slow or gone the request fails in seconds with a 503,
        # instead of holding a worker slot for the driver's default server-selection wait.
        with pymongo.timeout(self._query_timeout):
            documents = await user_posts_cursor(self._db, user_id, page=page, page_size=page_size).to_list(
                length=page_size + 1
            )
        return PostPage(
            items=[_to_post(document) for document in documents[:page_size]],
            page=page,
            page_size=page_size,
            has_more=len(documents) > page_size,
        )
