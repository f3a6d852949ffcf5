"""The published OpenAPI schema says what this server enforces, with the limits taken from its settings.

UploadRequest's `content_type` is an enum of UPLOAD_ALLOWED_CONTENT_TYPES and `size_bytes` has
UPLOAD_MAX_BYTES as its maximum: both are settings, so they are written into the schema when it is built for
an app, not into the model. The request body itself is read after authentication (app.api.body), so the
route declares it through openapi_extra and the model's schema is added to the components here.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.core.config import Settings
from app.schemas.uploads import UploadRequest


def upload_request_schema(settings: Settings) -> dict[str, Any]:
    schema = UploadRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    properties = schema["properties"]
    properties["content_type"]["enum"] = list(settings.upload_allowed_content_types)
    properties["size_bytes"]["maximum"] = settings.upload_max_bytes
    return schema


def install_openapi(app: FastAPI, settings: Settings) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {}).setdefault("schemas", {})[UploadRequest.__name__] = (
                upload_request_schema(settings)
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # the documented way to customise the schema (FastAPI: "Extending OpenAPI")
