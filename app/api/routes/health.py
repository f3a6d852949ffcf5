"""Health endpoints, one per audience.

- /api/health: the load balancer's target-group check. No I/O at all, so a slow database can never make the
  ALB mark every instance unhealthy at once and terminate the fleet.
- /api/health/live: liveness (restart me if this stops answering): the process and its event loop serve.
- /api/health/ready: readiness (send me traffic): MongoDB answers (503 naming it if not); Redis down is
  reported as degraded, still 200, because the cache falls back to the database.
- /api/health/detailed: monitoring, behind X-Health-Token: every dependency's status and latency, version,
  uptime, pool and cache statistics.
"""

import hmac
import json
import os
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Security, status
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader

from app import __version__
from app.api.deps import ReadinessDep, ResourcesDep, SettingsDep
from app.core.redis import redis_pool_stats
from app.schemas.common import ErrorOut
from app.schemas.health import DependencyOut, DetailedHealthOut, HealthOut, LivenessOut, ReadinessOut
from app.services.readiness import ReadinessReport

router = APIRouter(prefix="/health", tags=["health"])

NO_STORE = {"Cache-Control": "no-store"}


# An API key in a header, declared as a security scheme so the schema (and a schema-driven client) knows it
# is a credential rather than an ordinary header parameter.
_health_token = APIKeyHeader(name="X-Health-Token", auto_error=False, description="HEALTH_DETAILED_TOKEN")


async def require_health_token(
    settings: SettingsDep, x_health_token: Annotated[str | None, Security(_health_token)]
) -> None:
    expected = settings.health_detailed_token.get_secret_value().encode()
    # compare_digest: the time taken must not reveal how much of a guess was right.
    if x_health_token is None or not hmac.compare_digest(x_health_token.encode(), expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "A valid X-Health-Token header is required.")


class ConstantResponse(Response):
    """A response whose status, body and headers were all built once, at import.

    /api/health is the route the load balancer calls most, and its answer never changes: JSONResponse would
    serialise the same dict and rebuild the same header list on every call. A fresh (cheap) object per request
    rather than one shared instance, because FastAPI sets `background` on the response an endpoint returns."""

    def __init__(self, status_code: int, body: bytes, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = status_code
        self.body = body
        self.raw_headers = raw_headers.copy()  # a copy: a middleware may append to the list it is sent
        self.background = None


HEALTH_BODY = HealthOut(status="ok").model_dump_json().encode()  # the response model's own JSON, once
_HEALTH_HEADERS = JSONResponse(json.loads(HEALTH_BODY), headers=NO_STORE).raw_headers


async def health() -> Response:
    return ConstantResponse(200, HEALTH_BODY, _HEALTH_HEADERS)


def add_load_balancer_check(app: FastAPI, prefix: str) -> None:
    """/api/health on the app itself rather than on this router (app/api/router.py says why); the same path,
    tag, model and operation id as before."""
    app.add_api_route(f"{prefix}{router.prefix}", health, methods=["GET"], response_model=HealthOut, tags=["health"])


@router.get("/live", response_model=LivenessOut)
async def live(resources: ResourcesDep) -> JSONResponse:
    return JSONResponse(
        {"status": "alive", "pid": os.getpid(), "uptime_seconds": resources.uptime_seconds()}, headers=NO_STORE
    )


def _readiness_body(report: ReadinessReport) -> dict[str, object]:
    return {"status": report.status.value, "detail": report.detail, "checks": report.checks()}


@router.get(
    "/ready",
    response_model=ReadinessOut,
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": ReadinessOut, "description": "MongoDB is down"}},
)
async def ready(readiness: ReadinessDep) -> JSONResponse:
    report = await readiness.report()
    code = status.HTTP_200_OK if report.is_ready else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse(_readiness_body(report), status_code=code, headers=NO_STORE)


@router.get(
    "/detailed",
    response_model=DetailedHealthOut,
    dependencies=[Depends(require_health_token)],
    responses={status.HTTP_401_UNAUTHORIZED: {"model": ErrorOut, "description": "Missing or wrong X-Health-Token"}},
)
async def detailed(resources: ResourcesDep) -> JSONResponse:
    settings = resources.settings
    # Fresh, not the cached readiness answer: monitoring wants this moment's latency, and polls rarely.
    report = await resources.readiness.check_now()
    pools: dict[str, dict[str, int]] = {"mongodb": resources.mongo_pool.snapshot(settings.mongo_max_pool_size)}
    if resources.redis is not None:
        pools["redis"] = redis_pool_stats(resources.redis, settings.redis_max_connections)
    body = DetailedHealthOut(
        status=report.status.value,
        service=settings.service_name,
        version=__version__,
        release=settings.app_release,
        environment=settings.app_env,
        pid=os.getpid(),
        uptime_seconds=resources.uptime_seconds(),
        dependencies={
            check.name: DependencyOut.model_validate(check.as_dict()) for check in (report.mongodb, report.redis)
        },
        pools=pools,
        cache=resources.cache.snapshot(),
        readiness={
            "probes_run": resources.readiness.probes_run,
            "cache_seconds": resources.readiness.cache_seconds,
            "timeout_seconds": resources.readiness.timeout_seconds,
            "failure_threshold": resources.readiness.failure_threshold,
            "inconclusive_pings": resources.readiness.inconclusive_pings,
        },
        rate_limit=resources.rate_limiter.snapshot(),
        # Key ids only: after a rotation, which keys this instance holds shows whether it has rolled yet.
        jwt={"current_kid": resources.jwt_keyring.current_kid, "accepted_kids": list(resources.jwt_keyring.kids)},
    )
    return JSONResponse(body.model_dump(mode="json"), headers=NO_STORE)
