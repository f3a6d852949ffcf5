"""Tier B's MongoDB connection budget: the pods at the HPA's maximum, during a rollout's surge, within 60% of the
smallest Atlas tier's per-node limit, by the same function as the EC2 fleet's; what the pods receive; a config
that cannot fit refused naming its keys; and the Deployment waiting for what its pods connect through."""

from __future__ import annotations

import math

import pulumi
import pytest

from infra.capacity.atlas_limits import connections_per_node
from infra.capacity.kubernetes_fleet import POD_CPU_LIMIT_FACTOR, pod_fleet_budget, workers_per_pod
from infra.capacity.mongo_connections import MONITORING_CONNECTIONS_PER_PROCESS
from infra.config import InvalidStackConfig
from infra.plan.document import Plan, build_plan
from tests.infra.kubernetes.k8s_support import EKS_STACKS, app_container, depends_on, eks_plan, named
from tests.infra.plans import REPO_ROOT


def pod_environment(plan: Plan) -> dict[str, str]:
    return {item["name"]: item["value"] for item in app_container(plan)["env"]}


def atlas_min_tier(plan: Plan) -> str:
    (cluster,) = plan.of_type("mongodbatlas:index/advancedCluster:AdvancedCluster")
    (spec,) = cluster["inputs"]["replicationSpecs"]
    (region,) = spec["regionConfigs"]
    return region["autoScaling"]["computeMinInstanceSize"]


@pytest.mark.parametrize("stack_id", EKS_STACKS)
def test_every_pod_at_the_hpa_maximum_and_its_surge_fits_sixty_percent_of_the_smallest_tier(stack_id: str) -> None:
    plan = eks_plan(stack_id)
    environment = pod_environment(plan)
    workers, pool = int(environment["GUNICORN_WORKERS"]), int(environment["MONGO_MAX_POOL_SIZE"])
    container = app_container(plan)
    limit_cores = int(container["resources"]["limits"]["cpu"].removesuffix("m")) / 1000
    assert workers == math.ceil(limit_cores), "one gunicorn worker per CPU of the pod's limit"
    hpa = named(plan, "app-autoscaler")["inputs"]["spec"]
    surge = int(named(plan, "app-deployment")["inputs"]["spec"]["strategy"]["rollingUpdate"]["maxSurge"].rstrip("%"))
    pods = math.ceil(hpa["maxReplicas"] * (100 + surge) / 100)
    per_node = pods * workers * (pool + MONITORING_CONNECTIONS_PER_PROCESS)
    limit = connections_per_node(atlas_min_tier(plan))
    assert per_node <= 0.6 * limit, f"{stack_id}: {per_node} connections per node of {limit}"
    assert pool >= 10


def test_prod_tier_b_pods_run_two_workers_with_a_pool_of_16() -> None:
    # 27 app pods x 1.25 (rollout surge) = 34 pods x 2 workers = 68 processes, 12 job worker pods x 1.25 = 15 x 2
    # Celery processes = 30, the exporter and its surge 2: 100 processes on an M30 node (3,000): 1,800 / 100 - 2.
    plan = eks_plan("prod-tier-B")
    environment = pod_environment(plan)
    assert (environment["GUNICORN_WORKERS"], environment["MONGO_MAX_POOL_SIZE"]) == ("2", "16")
    for name in ("jobs-worker", "jobs-metrics"):
        (container,) = named(plan, name)["inputs"]["spec"]["template"]["spec"]["containers"]
        assert {"name": "MONGO_MAX_POOL_SIZE", "value": "16"} in container["env"], name


@pytest.mark.parametrize("stack_id", EKS_STACKS)
def test_the_app_and_the_job_workers_at_their_maxima_fit_sixty_percent_of_the_smallest_tier(stack_id: str) -> None:
    plan = eks_plan(stack_id)
    pool = int(pod_environment(plan)["MONGO_MAX_POOL_SIZE"])
    app_processes = int(pod_environment(plan)["GUNICORN_WORKERS"]) * math.ceil(
        named(plan, "app-autoscaler")["inputs"]["spec"]["maxReplicas"] * 1.25
    )
    scaled = named(plan, "jobs-scaled-object")["inputs"]["spec"]
    (worker,) = named(plan, "jobs-worker")["inputs"]["spec"]["template"]["spec"]["containers"]
    concurrency = int(next(e["value"] for e in worker["env"] if e["name"] == "WORKER_CONCURRENCY"))
    worker_processes = math.ceil(scaled["maxReplicaCount"] * 1.25) * concurrency
    exporter_processes = math.ceil(named(plan, "jobs-metrics")["inputs"]["spec"]["replicas"] * 1.25)
    processes = app_processes + worker_processes + exporter_processes
    limit = connections_per_node(atlas_min_tier(plan))
    assert processes * (pool + MONITORING_CONNECTIONS_PER_PROCESS) <= 0.6 * limit


def test_more_job_workers_get_a_smaller_pool_and_too_many_are_refused_naming_the_keys() -> None:
    default = int(pod_environment(eks_plan("prod-tier-B"))["MONGO_MAX_POOL_SIZE"])
    larger = int(pod_environment(eks_plan("prod-tier-B", ("workerPodMaxReplicas=20",)))["MONGO_MAX_POOL_SIZE"])
    assert larger < default
    with pytest.raises(InvalidStackConfig) as caught:
        # 76 app processes + 63 x 2 worker processes + 2: 1,800 / 204 - 2 = 6, below 10.
        build_plan("dev", ("tier=B", "workerPodMaxReplicas=50", "computeMaxSize=30"), REPO_ROOT)
    (problem,) = [p for p in caught.value.problems if p.key == "contentry:atlasMinInstanceSize"]
    for named_key in ("workerPodMaxReplicas", "workerConcurrency", "podMaxReplicas"):
        assert named_key in problem.message


def test_the_pods_budget_is_the_ec2_fleets_function() -> None:
    budget = pod_fleet_budget(cpu_request_millicores=1000, max_replicas=30, atlas_min_tier="M30")
    assert budget.workers_per_pod == workers_per_pod(1000) == 1000 * POD_CPU_LIMIT_FACTOR // 1000
    assert budget.mongo.fleet_processes == 38 * 2
    assert budget.mongo.peak_connections_per_node <= budget.mongo.fleet_share


def test_more_pods_get_a_smaller_pool() -> None:
    default = int(pod_environment(eks_plan("prod-tier-B"))["MONGO_MAX_POOL_SIZE"])
    larger = int(
        pod_environment(eks_plan("prod-tier-B", ("podMaxReplicas=34", "computeMaxSize=7")))["MONGO_MAX_POOL_SIZE"]
    )
    assert larger < default


def test_pods_that_cannot_fit_are_refused_naming_the_keys_before_anything_is_registered() -> None:
    with pytest.raises(InvalidStackConfig) as caught:
        # 30 pods (38 in a rollout) x 2 workers on an M10 node's 1,500 connections: 900 / 76 - 2 = 9, below 10.
        build_plan(
            "dev",
            ("tier=B", "podMaxReplicas=30", "computeMaxSize=5", "atlasMinInstanceSize=M10", "atlasInstanceSize=M10"),
            REPO_ROOT,
        )
    problems = [p for p in caught.value.problems if p.key == "contentry:atlasMinInstanceSize"]
    assert len(problems) == 1, caught.value.problems
    for named_key in ("podMaxReplicas", "podCpuRequestMillicores", "atlasMinInstanceSize", "M10"):
        assert named_key in problems[0].message
    assert isinstance(caught.value, pulumi.RunError), "reported without a traceback"


@pytest.mark.parametrize("stack_id", EKS_STACKS)
def test_the_deployment_waits_for_what_its_pods_connect_through(stack_id: str) -> None:
    plan = eks_plan(stack_id)
    assert depends_on(
        plan,
        "app-deployment",
        "database-app-user",
        "database-access-vpc",
        "database-atlas-route-0",
        "network-private-default-route-0",
        "s3-endpoint-policy",
    )
