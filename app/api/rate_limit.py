"""Rate limits on the routes that write, as dependencies: after authentication (the limit is per user), before
the body is read (a refused request costs no parsing). Read routes and the health routes take none.

A refused request is a 429 with `Retry-After` (whole seconds until it would pass) and a detail that names the
limit. The client's address is the one the load balancer appended (app/core/client_address.py), counted per
IPv4 address or IPv6 /64.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException, Request, status

from app.api.deps import CurrentUserDep, RateLimiterDep
from app.core.client_address import client_key
from app.core.security import AuthenticatedUser
from app.schemas.common import ErrorOut
from app.services.rate_limit import Action, Bucket, RateLimiter

RATE_LIMITED_RESPONSE: dict[int | str, dict[str, Any]] = {
    status.HTTP_429_TOO_MANY_REQUESTS: {
        "model": ErrorOut,
        "description": "Too many requests from this user or address; retry after the Retry-After header's seconds",
        "headers": {
            "Retry-After": {"description": "Seconds until the request would pass", "schema": {"type": "integer"}}
        },
    }
}
_PERIOD_NAMES = {1: "a second", 60: "a minute", 3_600: "an hour", 86_400: "a day"}


def _describe(bucket: Bucket) -> str:
    period = _PERIOD_NAMES.get(bucket.limit.period_seconds, f"every {bucket.limit.period_seconds} seconds")
    who = "per user" if bucket.scope.value == "user" else "per client address"
    return f"{bucket.limit.requests} {bucket.action.value} {period} {who}"


def rate_limited(*actions: Action) -> Callable[..., Awaitable[AuthenticatedUser]]:
    """A dependency that authenticates the caller, then takes one request from each of `actions`' limits for the
    caller's user and address; it returns the user, so a route can depend on it instead of CurrentUserDep."""

    async def check(request: Request, user: CurrentUserDep, limiter: RateLimiterDep) -> AuthenticatedUser:
        await enforce(limiter, actions, user_id=user.user_id, client=request.client.host if request.client else None)
        return user

    return check


async def enforce(
    limiter: RateLimiter, actions: tuple[Action, ...], *, user_id: str | None, client: str | None
) -> None:
    buckets = limiter.buckets(actions, user_id=user_id, client=client_key(client) if client else None)
    decision = await limiter.check(buckets)
    if decision.allowed:
        return
    limit = f" (the limit is {_describe(decision.refused_by)})" if decision.refused_by is not None else ""
    raise HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"Too many requests{limit}; retry in {decision.retry_after_seconds} s.",
        headers={"Retry-After": str(decision.retry_after_seconds)},
    )
