"""Posts as the API returns them."""

from datetime import datetime

from pydantic import BaseModel, Field


class PostOut(BaseModel):
    id: str
    user_id: str
    enterprise_id: str | None = None
    content: str = ""
    status: str
    created_at: datetime
    scheduled_time: datetime | None = None


class PostPage(BaseModel):
    items: list[PostOut]
    page: int = Field(ge=1)
    page_size: int = Field(ge=1)
    # Whether a next page exists: found by reading one extra document, which is much cheaper than counting.
    has_more: bool
