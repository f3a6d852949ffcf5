"""The ASGI app: `app.main:app`, served by `gunicorn -c app/gunicorn.conf.py app.main:app`.

create_app() builds an app from settings (tests pass their own); the typed lifespan opens MongoDB, Redis and
S3 clients before the first request and closes them on shutdown, and hands them to requests as lifespan state.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from fastapi import FastAPI, Request, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure, ExecutionTimeout

from app import __version__
from app.api.openapi import install_openapi
from app.api.router import include_api
from app.core.client_address import ClientAddressMiddleware
from app.core.config import Settings, get_settings
from app.core.http_guards import RequestBodyLimitMiddleware, TrailingSlashMiddleware
from app.core.logging import configure_logging
from app.core.middleware import REQUEST_ID_HEADER, RequestContextMiddleware
from app.core.tracing import enable_datadog
from app.resources import Resources, open_resources

logger = logging.getLogger(__name__)


class AppState(TypedDict):
    resources: Resources


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """MongoDB unreachable or too slow: a retryable 503, not a 500 with a stack trace."""
    logger.warning("mongodb unavailable", extra={"error": type(exc).__name__, "path": request.url.path})
    return JSONResponse(
        {"detail": "MongoDB is unavailable; try again shortly."},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "1"},
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Before the FastAPI app is built, so ddtrace's FastAPI integration wraps it; never imported when disabled.
    enable_datadog(settings.datadog_enabled)
    log_writer = configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[AppState]:
        # Per worker, after gunicorn's fork: log lines are written by this worker's listener thread from now on.
        log_writer.start()
        try:
            async with open_resources(settings) as resources:
                # Names and switches only: nothing here is a secret.
                logger.info(
                    "started",
                    extra={
                        "environment": settings.app_env,
                        "release": settings.app_release,
                        "database": settings.mongo_database,
                        "cache_enabled": settings.cache_enabled,
                        "cdn": settings.cdn_domain is not None,
                        "rate_limits": settings.rate_limit_enabled and settings.cache_enabled,
                        "trusted_proxy_hops": settings.trusted_proxy_hops,
                        "jwt_kids": sorted(settings.jwt_keys),
                    },
                )
                yield {"resources": resources}
            logger.info("stopped")
        finally:
            log_writer.stop()  # every queued line is written before the worker exits

    app = FastAPI(
        title="Contentry API",
        version=__version__,
        lifespan=lifespan,
        # No interactive docs in production: less surface, and the schema is published from CI instead.
        docs_url=None if settings.is_production else "/docs",
        redoc_url=None,
        openapi_url=None if settings.is_production else "/openapi.json",
        # Never answer with a redirect built from the Host header; TrailingSlashMiddleware serves `/x/` as `/x`.
        redirect_slashes=False,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials="*" not in settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER, "X-Cache"],
            max_age=600,
        )
    app.add_middleware(TrailingSlashMiddleware)
    # Only POST /api/uploads takes a body; every other route accepts none.
    app.add_middleware(RequestBodyLimitMiddleware, limits={"/api/uploads": settings.json_body_max_bytes})
    # Added late, so outer: preflights and errors get a request id and an access line too.
    app.add_middleware(RequestContextMiddleware, access_log=settings.access_log_enabled)
    # Outermost: the access line, the rate limits and the routes see the client the load balancer saw.
    app.add_middleware(ClientAddressMiddleware, trusted_hops=settings.trusted_proxy_hops)
    app.add_exception_handler(ConnectionFailure, database_unavailable)
    app.add_exception_handler(ExecutionTimeout, database_unavailable)
    include_api(app)
    install_openapi(app, settings)
    return app


app = create_app()
