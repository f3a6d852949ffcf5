"""Rate limits shared by every worker and instance: GCRA in one Lua script on the app's Redis.

Each limit is a GCRA (generic cell rate algorithm) bucket under one Redis key: the key holds the bucket's
"theoretical arrival time" (TAT) in milliseconds and expires when the bucket is full again. A request checks
every limit that applies to it (its user's, its address's; the write limits and the upload limits) in ONE script
call: atomic, one round trip, and all or nothing, so a request refused by one limit consumes none of the others.
A refusal says exactly when the request would pass: the 429's Retry-After.

The clock is Redis's own (`TIME` inside the script), one clock for every instance however theirs drift. Tests
pass a fake clock instead, so every figure they assert is exact.

Why not the `limits` library (its async Redis storage): its strategies time requests with each instance's own
clock (moving window) or approximate from key TTLs (sliding window counter), report the reset time only through
a second call, run on a client of their own next to the app's, and cannot run on a test's clock; GCRA is
twenty lines of Lua here, with the app's Redis client (its TLS, AUTH, timeouts, retry and pool).

Redis down, hung or saturated: the request is let through (fail open; a cache outage must not stop writes),
logged, and counted in /api/health/detailed. A circuit breaker, like the cache's, skips Redis for a cooldown
once most recent calls failed, so a dead Redis costs no latency per request.
"""

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum

from redis.asyncio import Redis

from app.core.config import RateLimit, Settings
from app.services.cache import REDIS_FAILURES
from app.services.circuit_breaker import CircuitBreaker

logger = logging.getLogger(__name__)

# Reading TIME and then writing is allowed: scripts replicate their effects, not themselves (the default since
# Redis 5, the only mode since 7; ElastiCache runs Valkey 8 or Redis OSS 7.1 here).
# KEYS: one bucket per limit. ARGV[1]: now in ms, or "" for Redis's clock; then per bucket its emission interval
# (ms between requests on average) and its burst (requests allowed at once). Integers only: Lua's numbers
# become strings with 14 significant digits when stored, which a fraction of a millisecond since 1970 exceeds.
# Returns {1, 0, 0} when every bucket has room (and takes one request from each), else {0, ms until the request
# would pass, the (1-based) bucket that holds it back longest}.
GCRA_SCRIPT = """
local now
if ARGV[1] == "" then
  local time = redis.call("TIME")
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
else
  now = tonumber(ARGV[1])
end
local wait = 0
local refused_by = 0
local next_tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local tolerance = interval * tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call("GET", key)) or now
  if tat < now then
    tat = now
  end
  local next_tat = tat + interval
  local allowed_at = next_tat - tolerance
  if allowed_at > now and allowed_at - now > wait then
    wait = allowed_at - now
    refused_by = i
  end
  next_tats[i] = next_tat
end
if wait > 0 then
  return {0, wait, refused_by}
end
for i, key in ipairs(KEYS) do
  redis.call("SET", key, next_tats[i], "PX", next_tats[i] - now)
end
return {1, 0, 0}
"""


class Scope(StrEnum):
    """What a limit counts: one user (the token's subject) or one client address (an IPv4, an IPv6 /64)."""

    USER = "user"
    IP = "ip"


class Action(StrEnum):
    WRITE = "writes"  # every request that changes something
    UPLOAD = "uploads"  # an upload presign (a write too)


@dataclass(frozen=True)
class Bucket:
    action: Action
    scope: Scope
    identity: str
    limit: RateLimit

    @property
    def interval_ms(self) -> int:
        # Rounded up: never more than the configured rate.
        return math.ceil(self.limit.period_seconds * 1000 / self.limit.requests)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_seconds: int = 0
    """Whole seconds, rounded up, until the request would pass (a 429's Retry-After); 0 when allowed."""
    refused_by: Bucket | None = None
    """The limit that holds the request back longest, for the 429's message."""
    enforced: bool = True
    """False when Redis could not be asked and the request was let through (fail open)."""


@dataclass
class RateLimitStats:
    checks: int = 0
    limited: int = 0
    failed_open: int = 0
    """Requests let through unchecked: Redis failed, its breaker was open, or no connection was free."""
    redis_errors: int = 0


ALLOWED = Decision(allowed=True)
UNCHECKED = Decision(allowed=True, enforced=False)


class RateLimiter:
    def __init__(
        self,
        redis: Redis | None,
        *,
        prefix: str,
        limits: dict[tuple[Action, Scope], RateLimit],
        breaker: CircuitBreaker,
        max_concurrency: int,
        pool_wait_seconds: float,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """`clock`: seconds, for tests; None (production) uses Redis's own clock."""
        self._redis = redis
        self._prefix = prefix
        self._limits = dict(limits)
        self.breaker = breaker
        self._slots = asyncio.Semaphore(max_concurrency)
        self._pool_wait = pool_wait_seconds
        self._clock = clock
        self._script = redis.register_script(GCRA_SCRIPT) if redis is not None else None
        self.stats = RateLimitStats()

    @property
    def enabled(self) -> bool:
        return self._redis is not None

    @classmethod
    def from_settings(
        cls, redis: Redis | None, settings: Settings, breaker: CircuitBreaker, clock: Callable[[], float] | None = None
    ) -> "RateLimiter":
        return cls(
            redis if settings.rate_limit_enabled else None,
            prefix=settings.cache_prefix,
            limits={
                (Action.WRITE, Scope.USER): settings.rate_limit_writes_per_user,
                (Action.WRITE, Scope.IP): settings.rate_limit_writes_per_ip,
                (Action.UPLOAD, Scope.USER): settings.rate_limit_uploads_per_user,
                (Action.UPLOAD, Scope.IP): settings.rate_limit_uploads_per_ip,
            },
            breaker=breaker,
            max_concurrency=settings.rate_limit_max_connections,
            pool_wait_seconds=settings.redis_pool_wait_seconds,
            clock=clock,
        )

    def buckets(self, actions: Sequence[Action], *, user_id: str | None, client: str | None) -> list[Bucket]:
        """The buckets a request of these actions, by this user from this client, draws from."""
        identities = [(Scope.USER, user_id), (Scope.IP, client)]
        return [
            Bucket(action, scope, identity, self._limits[(action, scope)])
            for action in actions
            for scope, identity in identities
            if identity is not None
        ]

    def key(self, bucket: Bucket) -> str:
        return f"{self._prefix}:ratelimit:{bucket.action.value}:{bucket.scope.value}:{bucket.identity}"

    async def check(self, buckets: Sequence[Bucket]) -> Decision:
        """Take one request from every bucket, or from none when one is empty (then the answer says how long)."""
        script = self._script
        if script is None or not buckets:
            return ALLOWED
        self.stats.checks += 1
        if not self.breaker.allow():
            return self._unchecked()
        if self._slots.locked():
            try:
                async with asyncio.timeout(self._pool_wait):
                    await self._slots.acquire()
            except TimeoutError:
                return self._unchecked()
        else:
            await self._slots.acquire()  # a free slot: returns without suspending
        now = "" if self._clock is None else str(math.floor(self._clock() * 1000))
        arguments: list[str | int] = [now]
        for bucket in buckets:
            arguments += [bucket.interval_ms, bucket.limit.requests]
        try:
            allowed, wait_ms, refused_by = await script(keys=[self.key(bucket) for bucket in buckets], args=arguments)
        except REDIS_FAILURES as exc:
            self.stats.redis_errors += 1
            opened = self.breaker.record_failure()
            logger.warning(
                "rate limit not enforced: redis failed; letting the request through",
                extra={"error": type(exc).__name__, "breaker_opened": opened},
            )
            return self._unchecked()
        finally:
            self._slots.release()
        self.breaker.record_success()
        if allowed:
            return ALLOWED
        self.stats.limited += 1
        retry_after = max(1, math.ceil(int(wait_ms) / 1000))
        return Decision(allowed=False, retry_after_seconds=retry_after, refused_by=buckets[int(refused_by) - 1])

    def snapshot(self) -> dict[str, object]:
        return {
            "enabled": self.enabled,
            **asdict(self.stats),
            "limits": {
                f"{action.value}_per_{scope.value}": str(limit) for (action, scope), limit in self._limits.items()
            },
            "breaker": self.breaker.snapshot(),
        }

    def _unchecked(self) -> Decision:
        self.stats.failed_open += 1
        return UNCHECKED
