"""The MongoDB connection budget: how large each app process's connection pool may be so that the whole fleet,
at its largest, fits the Atlas tier.

What one app process opens: a PyMongo client keeps, for every server of the replica set, a pool of up to
maxPoolSize connections plus 2 monitoring connections (the streaming heartbeat and the round-trip-time probe;
MongoDB driver docs, "Connection Pools": "each MongoClient instance opens two more sockets per server ... for
monitoring the server's state"). Every app process (a gunicorn worker) has one client. Atlas's limit applies to
each node, so a node sees at most `processes x (pool + 2)` connections from the app, whichever node it is.

The fleet may use at most FLEET_SHARE_OF_LIMIT of a node's limit. The rest is headroom for what is not the
app: Atlas's own reserved connections, an operator's shell, a migration or backfill job, and the reconnect
storm after a failover, when every client opens its pool against the new primary at once.

The function is general: it takes the fleet-wide process count, whatever runs the processes. An EC2 fleet has
max instances x workers per instance (x the deploy surge); a Kubernetes deployment has max pods (the HPA's
maximum) x workers per pod (x its rolling-update surge).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

FLEET_SHARE_OF_LIMIT: Final = Fraction(3, 5)
"""60% of a node's connection limit for the whole app fleet at its largest."""
CONNECTIONS_ALERT_SHARE: Final = Fraction(4, 5)
"""The connections alert fires at 80% of the limit (the seed's "database connections > 80% of the pool", and
alarmDatabaseConnectionsPercent's default): above what the fleet can ever open by design (60%), so it means a leak
or another client, with a fifth of the limit left to act before connections are refused."""
MONITORING_CONNECTIONS_PER_PROCESS: Final = 2
"""PyMongo's monitoring connections per server per client (heartbeat and round-trip-time)."""
MAX_POOL_PER_WORKER: Final = 100
"""PyMongo's default maxPoolSize, and the app's (app/core/config.py): a larger pool buys nothing, since one
asyncio worker never has that many queries in flight."""
MIN_POOL_PER_WORKER: Final = 10
"""Below this a worker queues its own queries. One worker serves about 730 requests/s at the scaling target
(infra/capacity/throughput.py at 50% CPU), of which about 40% reach MongoDB (the traffic model's database reads
and writes): some 290 queries a second; at 30 ms each (a slow percentile, not Atlas's median) that is 9 in
flight (Little's law). A fleet that cannot give each worker 10 is refused; the presets give 24 (tier B) to 41
(tier A)."""


class ConnectionBudgetError(ValueError):
    """The fleet at its largest would open more connections than its share of the Atlas tier's limit."""


@dataclass(frozen=True)
class MongoConnectionBudget:
    fleet_processes: int
    """App processes (each with one MongoDB client) across the whole fleet at its largest."""
    node_connection_limit: int
    """The Atlas tier's limit per node: that of the smallest tier the cluster may run."""
    pool_per_worker: int
    """maxPoolSize for each process: MONGO_MAX_POOL_SIZE in the app's environment."""

    @property
    def fleet_share(self) -> int:
        """Connections per node the fleet may use: FLEET_SHARE_OF_LIMIT of the limit."""
        return math.floor(self.node_connection_limit * FLEET_SHARE_OF_LIMIT)

    @property
    def peak_connections_per_node(self) -> int:
        """What the fleet opens to one node when every process fills its pool."""
        return self.fleet_processes * (self.pool_per_worker + MONITORING_CONNECTIONS_PER_PROCESS)


def mongo_connection_budget(
    *, fleet_processes: int, node_connection_limit: int, reserved_connections: int = 0
) -> MongoConnectionBudget:
    """The pool per worker (process) for `fleet_processes` processes sharing one Atlas tier of
    `node_connection_limit` connections per node, after `reserved_connections` per node that the stack's other
    processes hold at their peak (the background job workers: `job_worker_connections`). Raises
    ConnectionBudgetError when the pool would be below MIN_POOL_PER_WORKER."""
    if fleet_processes < 1:
        raise ValueError(f"a fleet has at least one process, got {fleet_processes}")
    if node_connection_limit < 1:
        raise ValueError(f"a connection limit is positive, got {node_connection_limit}")
    if reserved_connections < 0:
        raise ValueError(f"reserved connections are not negative, got {reserved_connections}")
    whole_share = math.floor(node_connection_limit * FLEET_SHARE_OF_LIMIT)
    share = whole_share - reserved_connections
    pool = min(MAX_POOL_PER_WORKER, share // fleet_processes - MONITORING_CONNECTIONS_PER_PROCESS)
    if pool < MIN_POOL_PER_WORKER:
        most = max(share, 0) // (MIN_POOL_PER_WORKER + MONITORING_CONNECTIONS_PER_PROCESS)
        workers = f" ({reserved_connections} of them held by the job workers)" if reserved_connections else ""
        raise ConnectionBudgetError(
            f"{fleet_processes} app processes would get {max(pool, 0)} MongoDB connections each, below the minimum"
            f" pool of {MIN_POOL_PER_WORKER}: the stack may use {whole_share} of the tier's {node_connection_limit}"
            f" connections per node ({float(FLEET_SHARE_OF_LIMIT):.0%}){workers}, which serves at most"
            f" {most} processes"
        )
    return MongoConnectionBudget(
        fleet_processes=fleet_processes, node_connection_limit=node_connection_limit, pool_per_worker=pool
    )


def peak_app_processes(*, max_units: int, processes_per_unit: int, max_healthy_percent: int) -> int:
    """App processes at the fleet's largest: its maximum size, grown by the deploy surge (a rolling deploy
    launches new units before the old ones go; both hold connections meanwhile). A unit is an instance (EC2)
    or a pod (Kubernetes; its maxSurge as a percentage)."""
    if max_units < 1 or processes_per_unit < 1:
        raise ValueError(f"max_units {max_units} and processes_per_unit {processes_per_unit} must be positive")
    if max_healthy_percent < 100:
        raise ValueError(f"max_healthy_percent is at least 100, got {max_healthy_percent}")
    return math.ceil(max_units * max_healthy_percent / 100) * processes_per_unit


def connections_alert_threshold(node_connection_limit: int, percent: int | None = None) -> int:
    """Open connections per node above which the connections alert fires: `percent` of the limit (the stack's
    alarmDatabaseConnectionsPercent), CONNECTIONS_ALERT_SHARE when not given. It must stay above the fleet's share,
    or the alert would fire in normal operation."""
    share = CONNECTIONS_ALERT_SHARE if percent is None else Fraction(percent, 100)
    if not FLEET_SHARE_OF_LIMIT < share < 1:
        raise ValueError(f"an alert at {float(share):.0%} of the limit must lie above the fleet's share and below 100%")
    return math.floor(node_connection_limit * share)


JOB_WORKER_POOL_SIZE: Final = 4
"""MONGO_MAX_POOL_SIZE of a background job process. A Celery prefork child runs one task at a time, and a task's
queries run one after another (read the job, update its state, write results), so it rarely holds more than one
connection; 4 leaves room for a retry racing a slow socket. The queue metrics exporter runs one query a minute."""
JOB_PROCESSES_BESIDES_CHILDREN: Final = 2
"""Per worker host or pod, besides its `concurrency` Celery children: the Celery parent process and the queue
metrics exporter (on EC2 its own container on every worker host), each with a client of its own."""


def job_worker_connections(*, max_units: int, concurrency: int, max_healthy_percent: int) -> int:
    """What the background job workers at their largest open to one Atlas node: every worker host (EC2) or pod,
    grown by its rollout surge, runs `concurrency` Celery children, the Celery parent and the exporter, each with
    a pool of JOB_WORKER_POOL_SIZE plus its monitoring connections. Counted against the fleet's share of the node
    limit before the app's pool is sized (`reserved_connections` of `mongo_connection_budget`)."""
    if concurrency < 1:
        raise ValueError(f"a worker runs at least one process, got {concurrency}")
    processes = peak_app_processes(
        max_units=max_units,
        processes_per_unit=concurrency + JOB_PROCESSES_BESIDES_CHILDREN,
        max_healthy_percent=max_healthy_percent,
    )
    return processes * (JOB_WORKER_POOL_SIZE + MONITORING_CONNECTIONS_PER_PROCESS)
