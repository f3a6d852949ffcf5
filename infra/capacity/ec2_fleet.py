"""An EC2 app fleet's processes and its MongoDB connection budget (tiers A and C): the numbers the config rules
check and the instances receive (GUNICORN_WORKERS, MONGO_MAX_POOL_SIZE)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from infra.capacity.atlas_limits import connections_per_node
from infra.capacity.instance_types import vcpus_of
from infra.capacity.mongo_connections import (
    ConnectionBudgetError,
    MongoConnectionBudget,
    mongo_connection_budget,
    peak_app_processes,
)

DEPLOY_MAX_HEALTHY_PERCENT: Final = 150
"""How far above its size the fleet runs during a rolling deploy (the instance refresh's MaxHealthyPercentage):
half the fleet's worth of new instances at a time, briefly at 1.5x the cost and 1.5x the connections."""


class UnknownVcpusError(ValueError):
    """An instance type whose vCPUs (hence gunicorn workers) cannot be told from its name."""


@dataclass(frozen=True)
class Ec2FleetBudget:
    workers_per_instance: int
    """gunicorn workers on each instance: one per vCPU (GUNICORN_WORKERS)."""
    mongo: MongoConnectionBudget


def ec2_fleet_budget(
    *, instance_type: str, max_size: int, atlas_min_tier: str, job_worker_connections: int = 0
) -> Ec2FleetBudget:
    """The budget of a fleet of up to `max_size` instances of `instance_type` on an Atlas cluster that may scale
    down to `atlas_min_tier`. That tier binds: the pool is fixed in each instance's environment, and Atlas may
    scale the cluster down to its minimum at any time (auto-scaling follows CPU and memory, not connections).
    `job_worker_connections`: what the background job workers hold per node at their largest, taken off the
    share first (infra.capacity.mongo_connections.job_worker_connections).
    Raises UnknownVcpusError or ConnectionBudgetError."""
    workers = vcpus_of(instance_type)
    if workers is None:
        raise UnknownVcpusError(
            f"the vCPUs of {instance_type} (one app worker each) do not follow from its size name; pick a sized"
            " type such as c7g.xlarge or t4g.large"
        )
    processes = peak_app_processes(
        max_units=max_size, processes_per_unit=workers, max_healthy_percent=DEPLOY_MAX_HEALTHY_PERCENT
    )
    budget = mongo_connection_budget(
        fleet_processes=processes,
        node_connection_limit=connections_per_node(atlas_min_tier),
        reserved_connections=job_worker_connections,
    )
    return Ec2FleetBudget(workers_per_instance=workers, mongo=budget)


def largest_fitting_fleet(*, instance_type: str, atlas_min_tier: str, job_worker_connections: int = 0) -> int:
    """The largest computeMaxSize whose fleet still fits the tier's budget (0 if not even one instance does):
    what a refusal suggests."""
    size = 0
    while True:
        try:
            ec2_fleet_budget(
                instance_type=instance_type,
                max_size=size + 1,
                atlas_min_tier=atlas_min_tier,
                job_worker_connections=job_worker_connections,
            )
        except ConnectionBudgetError:
            return size
        size += 1
