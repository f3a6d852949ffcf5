"""Types shared by several endpoints."""

import re
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

# User ids are opaque strings (UUIDs or ObjectId hex in Contentry's data). The pattern keeps them usable in
# cache keys and S3 prefixes without escaping.
USER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
USER_ID_RE = re.compile(USER_ID_PATTERN)
UserId = Annotated[str, StringConstraints(pattern=USER_ID_PATTERN)]


class ErrorOut(BaseModel):
    detail: str = Field(description="What was wrong and what is allowed.")


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='Where: ["body", "size_bytes"], ["query", "page"], ...')
    msg: str
    type: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class ValidationErrorsOut(BaseModel):
    """Every 422 has this shape, a body that is not JSON or not UTF-8 included."""

    detail: list[FieldError]
