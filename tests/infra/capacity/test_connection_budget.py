"""The MongoDB connection budget (pure): the Atlas limits table, the pool per worker for any fleet shape, the
vCPUs behind the worker count, and the refusal of a fleet that cannot fit."""

from __future__ import annotations

from typing import get_args

import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.capacity.atlas_limits import (
    ATLAS_LIMITS_SOURCE,
    CONNECTIONS_PER_NODE,
    UnknownAtlasTierError,
    connections_per_node,
)
from infra.capacity.ec2_fleet import DEPLOY_MAX_HEALTHY_PERCENT, ec2_fleet_budget, largest_fitting_fleet
from infra.capacity.instance_types import vcpus_of
from infra.capacity.mongo_connections import (
    FLEET_SHARE_OF_LIMIT,
    JOB_WORKER_POOL_SIZE,
    MAX_POOL_PER_WORKER,
    MIN_POOL_PER_WORKER,
    MONITORING_CONNECTIONS_PER_PROCESS,
    ConnectionBudgetError,
    connections_alert_threshold,
    job_worker_connections,
    mongo_connection_budget,
    peak_app_processes,
)
from infra.config.model import AtlasInstanceSize
from infra.planning.compute.scaling import REFRESH_MAX_HEALTHY_PERCENT


def test_every_configurable_atlas_tier_has_a_limit_from_the_cited_table() -> None:
    assert set(CONNECTIONS_PER_NODE) == set(get_args(AtlasInstanceSize))
    assert "mongodb.com/docs/atlas/reference/atlas-limits" in ATLAS_LIMITS_SOURCE
    # The source's figures, by tier (AWS, general class): a larger tier never allows fewer connections.
    limits = [CONNECTIONS_PER_NODE[tier] for tier in get_args(AtlasInstanceSize)]
    assert limits == sorted(limits)
    assert (connections_per_node("M10"), connections_per_node("M30"), connections_per_node("M50")) == (
        1_500,
        3_000,
        16_000,
    )
    with pytest.raises(UnknownAtlasTierError, match="M5"):
        connections_per_node("M5")


def test_the_issue_s_tier_a_fleet_fits_sixty_percent_of_an_m30_node() -> None:
    """12 instances x 4 workers with the default pool of 100 would open 4,800 connections to an M30 node (3,000)."""
    budget = ec2_fleet_budget(instance_type="c7g.xlarge", max_size=12, atlas_min_tier="M30")
    assert budget.workers_per_instance == 4
    # 12 instances grow to 18 during a deploy (MaxHealthyPercentage 150): 72 processes.
    assert budget.mongo.fleet_processes == 72
    assert budget.mongo.pool_per_worker == 23
    assert budget.mongo.peak_connections_per_node <= 0.6 * 3_000
    assert 72 * (100 + MONITORING_CONNECTIONS_PER_PROCESS) > 3_000, "the default pool would not fit at all"


def test_the_deploy_surge_counted_is_the_rollout_s_own() -> None:
    assert DEPLOY_MAX_HEALTHY_PERCENT == REFRESH_MAX_HEALTHY_PERCENT


@given(
    processes=st.integers(min_value=1, max_value=20_000),
    limit=st.sampled_from(sorted(set(CONNECTIONS_PER_NODE.values()))),
)
def test_any_fleet_that_gets_a_pool_stays_within_its_share(processes: int, limit: int) -> None:
    try:
        budget = mongo_connection_budget(fleet_processes=processes, node_connection_limit=limit)
    except ConnectionBudgetError:
        # Refused only when even the minimum pool would not fit.
        assert processes * (MIN_POOL_PER_WORKER + MONITORING_CONNECTIONS_PER_PROCESS) > limit * FLEET_SHARE_OF_LIMIT
        return
    assert MIN_POOL_PER_WORKER <= budget.pool_per_worker <= MAX_POOL_PER_WORKER
    assert budget.peak_connections_per_node <= limit * FLEET_SHARE_OF_LIMIT
    # And it is the largest pool that fits (or the cap): one more connection each would overflow the share.
    if budget.pool_per_worker < MAX_POOL_PER_WORKER:
        assert processes * (budget.pool_per_worker + 1 + MONITORING_CONNECTIONS_PER_PROCESS) > budget.fleet_share


def test_a_fleet_too_large_for_its_tier_is_refused_with_what_would_fit() -> None:
    with pytest.raises(ConnectionBudgetError, match="serves at most 150 processes"):
        mongo_connection_budget(fleet_processes=151, node_connection_limit=3_000)
    assert largest_fitting_fleet(instance_type="c7g.xlarge", atlas_min_tier="M30") == 24
    ec2_fleet_budget(instance_type="c7g.xlarge", max_size=24, atlas_min_tier="M30")
    with pytest.raises(ConnectionBudgetError):
        ec2_fleet_budget(instance_type="c7g.xlarge", max_size=25, atlas_min_tier="M30")


def test_the_job_workers_connections_come_off_the_share_before_the_app_s_pool() -> None:
    # Tier A's worker fleet at its largest: 6 hosts, 9 during a refresh, each 4 Celery children, the parent and
    # the exporter, each with a pool of 4 and 2 monitoring connections.
    held = job_worker_connections(max_units=6, concurrency=4, max_healthy_percent=150)
    assert held == 9 * 6 * (JOB_WORKER_POOL_SIZE + MONITORING_CONNECTIONS_PER_PROCESS) == 324
    alone = ec2_fleet_budget(instance_type="c7g.xlarge", max_size=12, atlas_min_tier="M30").mongo.pool_per_worker
    shared = ec2_fleet_budget(
        instance_type="c7g.xlarge", max_size=12, atlas_min_tier="M30", job_worker_connections=held
    ).mongo.pool_per_worker
    assert (alone, shared) == (23, 18)
    assert largest_fitting_fleet(instance_type="c7g.xlarge", atlas_min_tier="M30", job_worker_connections=held) == 20
    with pytest.raises(ConnectionBudgetError, match="324 of them held by the job workers"):
        ec2_fleet_budget(instance_type="c7g.xlarge", max_size=21, atlas_min_tier="M30", job_worker_connections=held)


def test_the_function_serves_any_fleet_shape_such_as_kubernetes_pods() -> None:
    """Tier B: the HPA's maximum pods x workers per pod, with the rolling update's surge."""
    processes = peak_app_processes(max_units=24, processes_per_unit=2, max_healthy_percent=125)
    assert processes == 60
    budget = mongo_connection_budget(fleet_processes=processes, node_connection_limit=connections_per_node("M30"))
    assert budget.pool_per_worker == 28
    with pytest.raises(ValueError, match="at least 100"):
        peak_app_processes(max_units=2, processes_per_unit=2, max_healthy_percent=90)


def test_the_alert_fires_above_what_the_fleet_can_open_and_below_the_limit() -> None:
    for limit in CONNECTIONS_PER_NODE.values():
        threshold = connections_alert_threshold(limit)
        assert limit * FLEET_SHARE_OF_LIMIT < threshold < limit


@pytest.mark.parametrize(
    ("instance_type", "vcpus"),
    [
        ("c7g.medium", 1),
        ("c7g.large", 2),
        ("c7g.xlarge", 4),
        ("m7g.4xlarge", 16),
        ("c6i.32xlarge", 128),
        ("t4g.nano", 2),
        ("t4g.large", 2),
        ("t3.2xlarge", 8),
        ("t2.micro", 1),
        ("t2.medium", 2),
        ("m7i-flex.large", 2),
        ("c7g.metal", None),
        ("hpc6a.48xlarge", None),
    ],
)
def test_vcpus_follow_from_the_size_name(instance_type: str, vcpus: int | None) -> None:
    assert vcpus_of(instance_type) == vcpus


def test_every_ec2_type_but_bare_metal_and_hpc_gets_a_positive_vcpu_count() -> None:
    names = botocore.session.get_session().get_service_model("ec2").shape_for("InstanceType").enum
    for name in names:
        unknowable = "metal" in name or name.startswith("hpc")
        count = vcpus_of(name)
        assert (count is None) is unknowable, name
        assert count is None or count >= 1, name
