"""The MongoDB client: PyMongo's async client with its pool sized from settings, and pool statistics."""

from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient, monitoring

from app.core.config import Settings

MongoDocument = dict[str, Any]


@dataclass
class MongoPoolStats(monitoring.ConnectionPoolListener):
    """Counts pool events (all servers together) so /api/health/detailed can show pool pressure.

    PyMongo does not expose pool occupancy; the connection-monitoring events are its supported way to observe
    it. The callbacks run on the event loop's thread, so plain integers are enough. Events that say nothing
    about occupancy (pool created/ready/closed, connection ready, check-out started) are ignored.
    """

    open_connections: int = 0
    in_use: int = 0
    checkout_failures: int = 0
    pool_clears: int = 0

    def pool_created(self, event: monitoring.PoolCreatedEvent) -> None:
        return None

    def pool_ready(self, event: monitoring.PoolReadyEvent) -> None:
        return None

    def pool_cleared(self, event: monitoring.PoolClearedEvent) -> None:
        self.pool_clears += 1

    def pool_closed(self, event: monitoring.PoolClosedEvent) -> None:
        return None

    def connection_created(self, event: monitoring.ConnectionCreatedEvent) -> None:
        self.open_connections += 1

    def connection_ready(self, event: monitoring.ConnectionReadyEvent) -> None:
        return None

    def connection_closed(self, event: monitoring.ConnectionClosedEvent) -> None:
        self.open_connections = max(0, self.open_connections - 1)

    def connection_check_out_started(self, event: monitoring.ConnectionCheckOutStartedEvent) -> None:
        return None

    def connection_check_out_failed(self, event: monitoring.ConnectionCheckOutFailedEvent) -> None:
        self.checkout_failures += 1

    def connection_checked_out(self, event: monitoring.ConnectionCheckedOutEvent) -> None:
        self.in_use += 1

    def connection_checked_in(self, event: monitoring.ConnectionCheckedInEvent) -> None:
        self.in_use = max(0, self.in_use - 1)

    def snapshot(self, max_pool_size: int) -> dict[str, int]:
        return {
            "max_pool_size": max_pool_size,
            "open_connections": self.open_connections,
            "in_use": self.in_use,
            "checkout_failures": self.checkout_failures,
            "pool_clears": self.pool_clears,
        }


def create_mongo_client(settings: Settings, pool_stats: MongoPoolStats) -> AsyncMongoClient[MongoDocument]:
    """Build the client; it connects lazily, so a MongoDB that is down at boot does not stop the process."""
    return AsyncMongoClient(
        settings.mongo_url.get_secret_value(),
        appname=settings.service_name,
        maxPoolSize=settings.mongo_max_pool_size,
        minPoolSize=settings.mongo_min_pool_size,
        maxIdleTimeMS=settings.mongo_max_idle_time_ms,
        waitQueueTimeoutMS=settings.mongo_wait_queue_timeout_ms,
        connectTimeoutMS=settings.mongo_connect_timeout_ms,
        serverSelectionTimeoutMS=settings.mongo_server_selection_timeout_ms,
        tz_aware=True,
        event_listeners=[pool_stats],
    )
