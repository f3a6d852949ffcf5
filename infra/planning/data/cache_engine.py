"""ElastiCache engine settings: version, parameter-group family and the cache's eviction policy."""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.model import CacheEngine

REDIS_PORT = 6379

# A pure cache (every key can be rebuilt from MongoDB): when memory is full, evict the least recently used key
# of any kind rather than refuse writes (noeviction, the engine default) or only keys with a TTL (volatile-*).
EVICTION_POLICY = "allkeys-lru"


@dataclass(frozen=True)
class EngineSettings:
    engine: str
    version: str
    parameter_family: str


# The newest major each engine offers on ElastiCache (2026): Valkey 8.x, Redis OSS 7.1.
_ENGINES = {
    CacheEngine.VALKEY: EngineSettings(engine="valkey", version="8.0", parameter_family="valkey8"),
    CacheEngine.REDIS: EngineSettings(engine="redis", version="7.1", parameter_family="redis7"),
}


def engine_settings(engine: CacheEngine) -> EngineSettings:
    return _ENGINES[engine]


@dataclass(frozen=True)
class Topology:
    cache_clusters: int
    automatic_failover: bool
    multi_az: bool


def topology(replicas: int) -> Topology:
    """A replica is only worth having if it can take over: replicas >= 1 turns on failover and multi-AZ."""
    if replicas < 0:
        raise ValueError(f"replicas must be 0 or more, got {replicas}")
    has_replica = replicas >= 1
    return Topology(cache_clusters=1 + replicas, automatic_failover=has_replica, multi_az=has_replica)
