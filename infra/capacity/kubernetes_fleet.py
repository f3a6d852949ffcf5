"""Tier B's app pods, job worker pods and their MongoDB connection budget: the numbers the config rules check and
the pods receive (GUNICORN_WORKERS, MONGO_MAX_POOL_SIZE), by the same function as the EC2 fleet's
(infra.capacity.ec2_fleet). Every process with a MongoDB client counts: the API's gunicorn workers, the Celery
worker processes and the queue metrics exporter."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from infra.capacity.atlas_limits import connections_per_node
from infra.capacity.kubernetes_nodes import Resources
from infra.capacity.mongo_connections import MongoConnectionBudget, mongo_connection_budget, peak_app_processes

POD_CPU_LIMIT_FACTOR: Final = 2
"""A pod may burst to twice its CPU request (its limit); memory is limited to the request, so a pod is never
killed for a neighbour's memory. The Deployment's manifest applies it (infra.planning.kubernetes.workload)."""
ROLLING_MAX_SURGE_PERCENT: Final = 25
"""The Deployment's rolling update adds up to a quarter more pods before old ones stop (maxUnavailable 0): during
a rollout both hold their connections."""


@dataclass(frozen=True)
class PodFleetBudget:
    workers_per_pod: int
    """gunicorn workers in each pod: one per CPU of its limit (GUNICORN_WORKERS; the image's gunicorn.conf.py
    would read the same from the cgroup quota)."""
    mongo: MongoConnectionBudget


def workers_per_pod(cpu_request_millicores: int) -> int:
    return max(1, math.ceil(cpu_request_millicores * POD_CPU_LIMIT_FACTOR / 1000))


WORKER_CPU_MILLICORES_PER_PROCESS: Final = 250
"""CPU a job worker pod requests per Celery process: the jobs mostly wait on S3 and MongoDB; a thumbnail's
resize bursts to the limit (twice the request, POD_CPU_LIMIT_FACTOR)."""
WORKER_MEMORY_MIB_BASE: Final = 256
"""The Celery parent process (the image's Python, Celery, PyMongo, boto3)."""
WORKER_MEMORY_MIB_PER_PROCESS: Final = 256
"""Each prefork child: its own copy of the app's clients plus one upload's image decoded for a thumbnail."""
QUEUE_METRICS_REPLICAS: Final = 1
"""One exporter: the queue's depth is one global value, and the alarms read its Maximum."""


def worker_pod_requests(concurrency: int) -> Resources:
    """What one job worker pod of `concurrency` Celery processes requests (its memory limit is the same; its CPU
    limit POD_CPU_LIMIT_FACTOR times more)."""
    if concurrency < 1:
        raise ValueError(f"a worker runs at least one process, got {concurrency}")
    return Resources(
        WORKER_CPU_MILLICORES_PER_PROCESS * concurrency,
        WORKER_MEMORY_MIB_BASE + WORKER_MEMORY_MIB_PER_PROCESS * concurrency,
    )


def pod_fleet_budget(
    *,
    cpu_request_millicores: int,
    max_replicas: int,
    atlas_min_tier: str,
    worker_max_replicas: int = 0,
    worker_concurrency: int = 1,
) -> PodFleetBudget:
    """The budget of up to `max_replicas` app pods (the HPA's maximum) and `worker_max_replicas` job worker pods of
    `worker_concurrency` processes (KEDA's maximum), each grown by its rollout's surge, plus the queue metrics
    exporter, on an Atlas cluster that may scale down to `atlas_min_tier` (that tier binds, as for the EC2
    fleet). Every process gets the same pool. Raises ConnectionBudgetError."""
    workers = workers_per_pod(cpu_request_millicores)
    surge = 100 + ROLLING_MAX_SURGE_PERCENT
    processes = peak_app_processes(max_units=max_replicas, processes_per_unit=workers, max_healthy_percent=surge)
    if worker_max_replicas:
        processes += peak_app_processes(
            max_units=worker_max_replicas, processes_per_unit=worker_concurrency, max_healthy_percent=surge
        )
        processes += peak_app_processes(
            max_units=QUEUE_METRICS_REPLICAS, processes_per_unit=1, max_healthy_percent=surge
        )
    budget = mongo_connection_budget(
        fleet_processes=processes, node_connection_limit=connections_per_node(atlas_min_tier)
    )
    return PodFleetBudget(workers_per_pod=workers, mongo=budget)
