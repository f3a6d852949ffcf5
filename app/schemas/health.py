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
