"""Tier B's app pods and their MongoDB connection budget: the numbers the config rules check and the pods receive
(GUNICORN_WORKERS, MONGO_MAX_POOL_SIZE), by the same function as the EC2 fleet's (infra.capacity.ec2_fleet)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from infra.capacity.atlas_limits import connections_per_node
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


def pod_fleet_budget(*, cpu_request_millicores: int, max_replicas: int, atlas_min_tier: str) -> PodFleetBudget:
    """The budget of up to `max_replicas` pods (the HPA's maximum) on an Atlas cluster that may scale down to
    `atlas_min_tier` (that tier binds, as for the EC2 fleet). Raises ConnectionBudgetError."""
    workers = workers_per_pod(cpu_request_millicores)
    processes = peak_app_processes(
        max_units=max_replicas, processes_per_unit=workers, max_healthy_percent=100 + ROLLING_MAX_SURGE_PERCENT
    )
    budget = mongo_connection_budget(
        fleet_processes=processes, node_connection_limit=connections_per_node(atlas_min_tier)
    )
    return PodFleetBudget(workers_per_pod=workers, mongo=budget)
