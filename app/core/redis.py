"""The Redis client (redis-py's asyncio client), tuned for a cache that must fail fast."""

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from app.core.config import Settings

# Connections beyond the cache's own limit, for the readiness and /detailed pings, so a busy cache never
# starves the probes.
PROBE_HEADROOM = 4


def create_redis_client(settings: Settings) -> Redis:
    """Build the client; like the MongoDB client it connects on first use.

    No retries: redis-py retries three times with backoff by default, which turns one dead Redis into seconds
    of latency per request. The cache's circuit breaker decides when to try again instead.
    """
    return Redis.from_url(
        settings.redis_url.get_secret_value(),
        max_connections=settings.redis_max_connections + PROBE_HEADROOM,
        socket_timeout=settings.redis_socket_timeout_seconds,
        socket_connect_timeout=settings.redis_connect_timeout_seconds,
        retry=Retry(NoBackoff(), 0),
        # Check a connection that sat idle this long before reusing it (for example after a failover).
        health_check_interval=30,
        client_name=settings.service_name,
    )


def redis_pool_stats(client: Redis, max_connections: int) -> dict[str, int]:
    """Occupancy of the client's connection pool."""
    pool = client.connection_pool
    in_use = len(list(pool._get_in_use_connections()))
    idle = len(list(pool._get_free_connections()))
    return {"max_connections": max_connections, "open_connections": in_use + idle, "in_use": in_use}
