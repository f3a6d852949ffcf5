"""GET /api/posts: a user's posts, newest first, paginated, cached in Redis."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from app.api.deps import PostServiceDep
from app.schemas.common import UserId
from app.schemas.posts import PostPage

router = APIRouter(tags=["posts"])

MAX_PAGE = 500  # deep pages cost a long skip; clients that need more should narrow the query
MAX_PAGE_SIZE = 100


@router.get("/posts", response_model=PostPage)
async def list_posts(
    posts: PostServiceDep,
    response: Response,
    user_id: Annotated[UserId, Query(description="Whose posts: letters, digits, '_' or '-', up to 64.")],
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> PostPage | Response:
    result = await posts.list_for_user(user_id, page=page, page_size=page_size)
    # hit, miss or bypass: lets clients, tests and the load test see where an answer came from.
    cache_header = {"X-Cache": result.source.value}
    if result.json is not None:
        # The page's JSON as the cache holds it (a hit was validated against PostPage when read): serialising
        # the model again would produce the same bytes, at a cost on the busiest read.
        return Response(result.json, media_type=JSONResponse.media_type, headers=cache_header)
    response.headers.update(cache_header)
    return result.value
