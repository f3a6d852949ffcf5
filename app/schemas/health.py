"""Health responses."""

from pydantic import BaseModel, Field


class HealthOut(BaseModel):
    status: str


class LivenessOut(BaseModel):
    status: str
    pid: int
    uptime_seconds: float


class DependencyOut(BaseModel):
    status: str = Field(description="ok, down, disabled, or inconclusive (timed out while the worker was saturated)")
    latency_ms: float | None
    error: str | None
    consecutive_failures: int | None = None


class ReadinessOut(BaseModel):
    status: str
    detail: str | None = None
    checks: dict[str, DependencyOut]


class DetailedHealthOut(BaseModel):
    status: str
    service: str
    version: str
    release: str
    environment: str
    pid: int
    uptime_seconds: float
    dependencies: dict[str, DependencyOut]
    pools: dict[str, dict[str, int]]
    cache: dict[str, object]
    readiness: dict[str, float | int]
    rate_limit: dict[str, object] = Field(
        description="checks, limited, failed_open (let through unchecked: Redis failed or its breaker was open),"
        " redis_errors, the limits and the breaker"
    )
    jwt: dict[str, object] = Field(
        description="the key ids tokens are accepted with and the one new tokens are signed with (never a key)"
    )
