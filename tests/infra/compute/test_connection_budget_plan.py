"""The MongoDB connection budget through the plan: what each EC2 stack's instances really receive, the whole
fleet at its largest within 60% of the smallest Atlas tier's limit, the connections alert between the two, and
a config that cannot fit refused before anything is registered, naming its keys."""

from __future__ import annotations

import json
import math
from typing import Any

import pulumi
import pytest

from infra.capacity.atlas_limits import connections_per_node
from infra.capacity.mongo_connections import JOB_WORKER_POOL_SIZE, MONITORING_CONNECTIONS_PER_PROCESS
from infra.config import InvalidStackConfig
from infra.plan.document import Plan, build_plan
from infra.planning.compute.user_data import PREPARE_SCRIPT
from tests.infra.compute.compute_support import (
    AUTO_SCALING_GROUP,
    EC2_STACKS,
    cloud_config,
    stack_plan,
    the,
    user_data_of,
    written_file,
)
from tests.infra.plans import REPO_ROOT

ALERT = "mongodbatlas:index/alertConfiguration:AlertConfiguration"


def instance_environment(plan: Plan) -> dict[str, str]:
    """The fixed variables the prepare script writes into the container's env file (its `secret-to-env` line)."""
    prepare = written_file(cloud_config(user_data_of(plan)), PREPARE_SCRIPT)["content"]
    (line,) = [line for line in prepare.splitlines() if "secret-to-env " in line]
    words = line.split("secret-to-env ", 1)[1].split(" > ")[0].split()
    return dict(word.strip("'").split("=", 1) for word in words)


def atlas_min_tier(plan: Plan) -> str:
    (cluster,) = plan.of_type("mongodbatlas:index/advancedCluster:AdvancedCluster")
    (spec,) = cluster["inputs"]["replicationSpecs"]
    (region,) = spec["regionConfigs"]
    scaling = region["autoScaling"]
    if scaling.get("computeEnabled"):
        return scaling["computeMinInstanceSize"]
    return region["electableSpecs"]["instanceSize"]


def refresh_preferences(plan: Plan) -> dict[str, Any]:
    (rollout,) = [r for r in plan.resources if r["name"] == "app-fleet-rollout"]
    return json.loads(rollout["inputs"]["environment"]["REFRESH_REQUEST"])["Preferences"]


@pytest.mark.parametrize("stack_id", sorted(EC2_STACKS))
def test_the_whole_fleet_at_its_largest_fits_sixty_percent_of_the_smallest_tier(stack_id: str) -> None:
    plan = stack_plan(stack_id)
    environment = instance_environment(plan)
    workers, pool = int(environment["GUNICORN_WORKERS"]), int(environment["MONGO_MAX_POOL_SIZE"])
    group = the(plan, AUTO_SCALING_GROUP, "app-fleet-asg")
    # The deploy surge: new instances run beside the old ones until the refresh replaces them.
    surge = refresh_preferences(plan)["MaxHealthyPercentage"] / 100
    instances = math.ceil(group["inputs"]["maxSize"] * surge)
    per_node = instances * workers * (pool + MONITORING_CONNECTIONS_PER_PROCESS)
    # The job workers' fleet at its largest, each host's Celery children, parent and exporter (issue 16).
    worker_hosts = math.ceil(the(plan, AUTO_SCALING_GROUP, "worker-fleet-asg")["inputs"]["maxSize"] * surge)
    job_processes = worker_hosts * (plan.config["jobs"]["workerConcurrency"] + 2)
    per_node += job_processes * (JOB_WORKER_POOL_SIZE + MONITORING_CONNECTIONS_PER_PROCESS)
    limit = connections_per_node(atlas_min_tier(plan))
    assert per_node <= 0.6 * limit, f"{stack_id}: {per_node} connections per node of {limit}"
    assert pool >= 10


def test_prod_instances_run_one_worker_with_a_pool_of_34() -> None:
    # 1800 connections of M30's 3000 per node; the job workers (9 hosts at the surge x 6 processes x 6) hold 324;
    # 41 gunicorn workers (27 one-vCPU instances at the 150% surge) share the other 1476: 36 each, 2 of them
    # monitoring. Development: M10's 1500 x 60% = 900, the workers' 72 off, 18 processes: 46 each.
    environment = instance_environment(stack_plan("prod"))
    assert (environment["GUNICORN_WORKERS"], environment["MONGO_MAX_POOL_SIZE"]) == ("1", "34")
    dev = instance_environment(stack_plan("dev"))
    assert (dev["GUNICORN_WORKERS"], dev["MONGO_MAX_POOL_SIZE"]) == ("2", "44")


def test_a_larger_fleet_gets_a_smaller_pool() -> None:
    default = int(instance_environment(stack_plan("prod"))["MONGO_MAX_POOL_SIZE"])
    larger = int(instance_environment(stack_plan("prod", ("computeMaxSize=40",)))["MONGO_MAX_POOL_SIZE"])
    assert larger < default


@pytest.mark.parametrize(("stack_id", "threshold"), [("prod", 2_400), ("dev", 1_200)])
def test_the_connections_alert_fires_between_the_fleet_s_share_and_the_smallest_tier_s_limit(
    stack_id: str, threshold: int
) -> None:
    plan = stack_plan(stack_id)
    (alert,) = [a for a in plan.of_type(ALERT) if a["name"] == "database-alert-connections"]
    config = alert["inputs"]["metricThresholdConfig"]
    assert (config["metricName"], config["operator"], config["units"]) == ("CONNECTIONS", "GREATER_THAN", "RAW")
    assert config["threshold"] == threshold
    limit = connections_per_node(atlas_min_tier(plan))
    assert 0.6 * limit < config["threshold"] < limit


def test_the_alert_follows_the_smallest_tier_not_the_declared_one() -> None:
    def threshold(plan: Plan) -> float:
        (alert,) = [a for a in plan.of_type(ALERT) if a["name"] == "database-alert-connections"]
        return alert["inputs"]["metricThresholdConfig"]["threshold"]

    assert threshold(plan_with("atlasInstanceSize=M40", "atlasMaxInstanceSize=M60")) == threshold(stack_plan("prod"))
    assert threshold(plan_with("atlasMinInstanceSize=M40", "atlasInstanceSize=M40")) == 4_800
    # alarmDatabaseConnectionsPercent sets it (the seed's 80% by default).
    assert threshold(plan_with("alarmDatabaseConnectionsPercent=75")) == 2_250


def plan_with(*overrides: str) -> Plan:
    return stack_plan("prod", overrides)


def test_a_fleet_that_cannot_fit_is_refused_naming_the_keys_before_anything_is_registered() -> None:
    # 4 vCPU instances run 4 workers each: 40 of them need more connections than M30 holds.
    larger = ("computeInstanceType=c7g.xlarge", "computeMaxSize=40")
    with pytest.raises(InvalidStackConfig) as caught:
        build_plan("prod", larger, REPO_ROOT)
    (problem,) = caught.value.problems
    assert problem.key == "contentry:atlasMinInstanceSize"
    for named in (
        "computeMaxSize",
        "computeInstanceType",
        "atlasMinInstanceSize",
        "at most 20 fits",
        "workerMaxSize",
        "M30",
    ):
        assert named in problem.message
    assert isinstance(caught.value, pulumi.RunError), "reported without a traceback"
    # The same fleet fits once the cluster may not scale below a tier that holds it.
    build_plan("prod", (*larger, "atlasMinInstanceSize=M40", "atlasInstanceSize=M40"), REPO_ROOT)


def test_an_instance_type_whose_vcpus_are_unknown_is_refused() -> None:
    with pytest.raises(InvalidStackConfig, match=r"contentry:computeInstanceType: the vCPUs of c7g\.metal"):
        build_plan("dev", ("computeInstanceType=c7g.metal",), REPO_ROOT)
