"""JSON request bodies, read only after the route's dependencies (authentication first) have passed.

FastAPI reads and parses a declared body parameter before it resolves a single dependency, so an anonymous
client could make a worker read and parse a body it would then refuse with 401. A route that takes a JSON
body declares it with `json_body(Model)` instead: a dependency that depends on the caller being
authenticated and only then reads the body (already bounded by app.core.http_guards), and reports every
problem as the same 422 FastAPI gives for a malformed body, a body that is not UTF-8 included (FastAPI
answers that one with a bare 400). The body's schema is published through `openapi_body(Model)`.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)

JSON_MEDIA_TYPE = "application/json"
UNSUPPORTED_MEDIA_TYPE_DETAIL = "The request body must be JSON, sent with Content-Type: application/json."


def validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors, located under "body" as FastAPI locates them. A JSON syntax error (a body that is not
    UTF-8 included) carries no input: the raw bytes may not be text and must not be echoed."""
    errors: list[dict[str, Any]] = []
    for error in exc.errors(include_url=False):
        located = {**error, "loc": ("body", *error["loc"])}
        if error["type"] == "json_invalid":
            located.pop("input", None)
        errors.append(located)
    return errors


async def read_json(request: Request, model: type[ModelT]) -> ModelT:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_MEDIA_TYPE_DETAIL)
    raw = await request.body()
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(validation_errors(exc)) from exc


def json_body(model: type[ModelT]) -> Callable[[Request], Awaitable[ModelT]]:
    """A dependency that reads `model` from the body. Put it after the route's authentication dependency in
    its own Depends chain (see app.api.deps.UploadRequestDep): FastAPI runs a dependency's own dependencies
    first."""

    async def read(request: Request) -> ModelT:
        return await read_json(request, model)

    return read


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """The operation's requestBody for openapi_extra, referring to the model's component schema (which
    app.api.openapi adds, with the limits settings decide)."""
    return {
        "requestBody": {
            "required": True,
            "content": {JSON_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
        }
    }
