"""Tier B's background jobs through the plan: the Celery worker Deployment (the app's pod security, probes,
grace period, PDB, env, checksum), KEDA (its release, namespace, least privilege, the ScaledObject and its
credentials), the queue metrics exporter and its IAM, Datadog present only when enabled, and the node sizing
with the workers."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from infra.capacity.kubernetes_nodes import DATADOG_AGENT_DAEMONSET, node_shape, pods_fit
from infra.config import InvalidStackConfig
from infra.plan.document import Plan, build_plan
from infra.plan.recording import REDACTED
from infra.planning.kubernetes import jobs
from infra.planning.kubernetes.workload import SETTINGS_CHECKSUM_ANNOTATION
from tests.infra.kubernetes.k8s_support import (
    CHARTS,
    EKS_STACKS,
    RELEASE,
    app_container,
    depends_on,
    eks_plan,
    named,
    pod_template,
    policy_document,
)
from tests.infra.plans import REPO_ROOT

DATADOG_ON = ("datadogEnabled=true", "datadogApiKey=0123456789abcdef0123456789abcdef")


@pytest.fixture(params=EKS_STACKS)
def plan(request: pytest.FixtureRequest) -> Plan:
    return eks_plan(request.param)


def worker_template(plan: Plan) -> dict[str, Any]:
    return named(plan, "jobs-worker")["inputs"]["spec"]["template"]


def only_container(template: dict[str, Any]) -> dict[str, Any]:
    (container,) = template["spec"]["containers"]
    return container


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_the_worker_runs_the_apps_image_with_the_worker_command_and_the_apps_pod_security(plan: Plan) -> None:
    template = worker_template(plan)
    worker = only_container(template)
    app = app_container(plan)
    assert worker["image"] == app["image"]
    assert worker["command"] == ["python", "-m", "app.jobs.worker"]
    assert worker["securityContext"] == app["securityContext"]
    assert template["spec"]["securityContext"] == pod_template(plan)["spec"]["securityContext"]
    assert template["spec"]["automountServiceAccountToken"] is False
    assert worker["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert template["spec"]["volumes"] == pod_template(plan)["spec"]["volumes"]
    assert named(plan, "jobs-worker")["inputs"]["metadata"]["namespace"] == "contentry"
    assert "replicas" not in named(plan, "jobs-worker")["inputs"]["spec"], "KEDA's HPA owns the replica count"


def test_the_worker_gets_the_apps_secret_and_the_contracts_environment(plan: Plan) -> None:
    worker = only_container(worker_template(plan))
    assert worker["envFrom"] == [{"secretRef": {"name": "api-settings"}}]
    env = env_of(worker)
    assert env["WORKER_CONCURRENCY"] == "2"
    assert env["JOB_TIME_LIMIT_SECONDS"] == "300"
    assert env["JOBS_METRICS_NAMESPACE"] == "Contentry/Jobs"
    assert env["STACK_NAME"] == plan.stack
    assert env["UPLOAD_QUARANTINE_PREFIX"] == "quarantine/"
    assert env["DATADOG_ENABLED"] == "false"
    assert not [name for name in env if name.startswith("DD_")]
    assert env_of(app_container(plan))["JOB_TIME_LIMIT_SECONDS"] == "300"
    changed = eks_plan("dev-tier-B", ("workerConcurrency=3", "jobTimeLimitSeconds=900"))
    env = env_of(only_container(worker_template(changed)))
    assert (env["WORKER_CONCURRENCY"], env["JOB_TIME_LIMIT_SECONDS"]) == ("3", "900")


def test_requests_limits_and_a_liveness_probe_on_celerys_own_ping(plan: Plan) -> None:
    worker = only_container(worker_template(plan))
    assert worker["resources"] == {
        "requests": {"cpu": "500m", "memory": "768Mi"},
        "limits": {"cpu": "1000m", "memory": "768Mi"},
    }
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert worker[probe]["exec"]["command"] == ["python", "-m", "app.jobs.healthcheck"], probe
        assert worker[probe]["timeoutSeconds"] >= 10, "a ping takes seconds, on top of Python's start"
        assert worker[probe]["timeoutSeconds"] < worker[probe]["periodSeconds"]
    liveness = worker["livenessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 180


def test_a_stopping_worker_has_its_jobs_time_limit_and_a_margin_to_finish() -> None:
    for limit in (300, 1800):
        plan = eks_plan("dev-tier-B", (f"jobTimeLimitSeconds={limit}",))
        grace = worker_template(plan)["spec"]["terminationGracePeriodSeconds"]
        assert grace >= limit + 30
        # The Cluster Autoscaler must not cut it shorter when it empties a node (its default is 600 s).
        args = named(plan, "cluster-autoscaler-release")["inputs"]["values"]["extraArgs"]
        assert args["max-graceful-termination-sec"] >= grace


def test_one_worker_at_a_time_may_be_evicted_and_workers_spread_across_zones(plan: Plan) -> None:
    pdb = named(plan, "jobs-worker-disruption-budget")["inputs"]
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"] == named(plan, "jobs-worker")["inputs"]["spec"]["selector"]
    assert pdb["metadata"]["namespace"] == "contentry"
    spread = worker_template(plan)["spec"]["topologySpreadConstraints"]
    zone = next(c for c in spread if c["topologyKey"] == "topology.kubernetes.io/zone")
    assert (zone["maxSkew"], zone["whenUnsatisfiable"]) == (1, "DoNotSchedule")
    assert zone["labelSelector"] == {"matchLabels": {"app.kubernetes.io/name": "worker"}}


def test_a_changed_secret_rolls_the_workers_as_it_rolls_the_app() -> None:
    one = ("cacheMode=external", "externalRedisUrl=rediss://default:first-password@redis.example.com:6380/2")
    two = ("cacheMode=external", "externalRedisUrl=rediss://default:second-password@redis.example.com:6380/2")
    first, second = eks_plan("dev-tier-B", one), eks_plan("dev-tier-B", two)
    a = worker_template(first)["metadata"]["annotations"][SETTINGS_CHECKSUM_ANNOTATION]
    b = worker_template(second)["metadata"]["annotations"][SETTINGS_CHECKSUM_ANNOTATION]
    assert a != b
    assert a == pod_template(first)["metadata"]["annotations"][SETTINGS_CHECKSUM_ANNOTATION]
    for plan in (first, second):
        assert "first-password" not in plan.to_json()
        assert "second-password" not in plan.to_json()
    # The external URL's database and TLS reach the scaler as settings; its credentials only as a secret.
    trigger = named(first, "jobs-scaled-object")["inputs"]["spec"]["triggers"][0]["metadata"]
    assert (trigger["databaseIndex"], trigger["enableTLS"]) == ("2", "true")


def test_the_worker_identity_reads_only_the_app_secret_and_the_files_bucket_objects(plan: Plan) -> None:
    association = named(plan, "jobs-worker-identity")["inputs"]
    assert (association["namespace"], association["serviceAccount"]) == ("contentry", "worker")
    assert named(plan, "jobs-worker")["inputs"]["spec"]["template"]["spec"]["serviceAccountName"] == "worker"
    statements = policy_document(plan, "jobs-worker-role-policy")["Statement"]
    grants = {(s["Action"] if isinstance(s["Action"], str) else tuple(s["Action"]), s["Resource"]) for s in statements}
    bucket = next(s["Resource"] for s in statements if s["Action"] == "s3:ListBucket")
    assert grants == {
        ("secretsmanager:GetSecretValue", plan.outputs["appSecretArn"]),
        ("s3:ListBucket", bucket),
        (("s3:DeleteObject", "s3:GetObject", "s3:PutObject"), f"{bucket}/*"),
    }
    assert "files-uploads" in bucket
    trust = json.loads(named(plan, "jobs-worker-role")["inputs"]["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert depends_on(plan, "jobs-worker", "jobs-worker-identity", "app-settings", "database-app-user")


def test_the_exporter_publishes_only_into_the_jobs_namespace(plan: Plan) -> None:
    exporter = named(plan, "jobs-metrics")["inputs"]
    assert exporter["spec"]["replicas"] == 1
    container = only_container(exporter["spec"]["template"])
    assert container["command"] == ["python", "-m", "app.jobs.queue_metrics"]
    env = env_of(container)
    assert (env["JOBS_METRICS_NAMESPACE"], env["STACK_NAME"]) == ("Contentry/Jobs", plan.stack)
    assert container["securityContext"] == app_container(plan)["securityContext"]
    assert exporter["spec"]["template"]["spec"]["serviceAccountName"] == "queue-metrics"
    association = named(plan, "jobs-metrics-identity")["inputs"]
    assert (association["namespace"], association["serviceAccount"]) == ("contentry", "queue-metrics")
    (statement,) = policy_document(plan, "jobs-metrics-role-policy")["Statement"]
    assert statement["Action"] == "cloudwatch:PutMetricData"
    assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Contentry/Jobs"}}


def test_keda_runs_in_its_own_restricted_namespace_watching_only_the_apps_without_any_other_secret(
    plan: Plan,
) -> None:
    labels = named(plan, "keda-namespace")["inputs"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    release = named(plan, "keda-release")["inputs"]
    assert (release["chart"], release["version"], release["namespace"]) == ("keda", "2.20.2", "keda")
    assert release["repositoryOpts"]["repo"] == "https://kedacore.github.io/charts"
    values = release["values"]
    assert values["watchNamespace"] == "contentry"
    assert values["permissions"]["operator"]["restrict"]["secret"] is True
    assert values["permissions"]["metricServer"]["restrict"]["secret"] is True
    assert not [r for r in plan.resources if r["name"].startswith("keda-") and r["type"].startswith("aws:")]
    assert depends_on(plan, "keda-release", "keda-namespace", "app-namespace", "nodes-group")


def test_the_scaled_object_scales_the_workers_on_the_jobs_list_over_tls(plan: Plan) -> None:
    scaled = named(plan, "jobs-scaled-object")["inputs"]
    assert scaled["metadata"]["namespace"] == "contentry"
    spec = scaled["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "worker"}
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (2, 12)
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "redis"
    assert trigger["metadata"] == {"listName": "jobs", "listLength": "10", "enableTLS": "true", "databaseIndex": "0"}
    assert trigger["authenticationRef"] == {"name": "keda-redis-jobs", "kind": "ClusterTriggerAuthentication"}
    changed = eks_plan(
        "dev-tier-B", ("workerPodMinReplicas=3", "workerPodMaxReplicas=9", "jobQueueDepthTargetPerWorker=25")
    )
    spec = named(changed, "jobs-scaled-object")["inputs"]["spec"]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (3, 9)
    assert spec["triggers"][0]["metadata"]["listLength"] == "25"


def test_kedas_redis_credentials_are_a_secret_in_its_namespace_and_wait_for_its_crds(plan: Plan) -> None:
    secret = named(plan, "jobs-scaler-secret")["inputs"]
    assert (secret["metadata"]["namespace"], secret["metadata"]["name"]) == ("keda", "keda-redis-jobs")
    assert secret["stringData"] == REDACTED
    authentication = named(plan, "jobs-trigger-authentication")["inputs"]
    assert authentication["spec"]["secretTargetRef"] == [
        {"parameter": parameter, "name": "keda-redis-jobs", "key": parameter}
        for parameter in ("address", "username", "password")
    ]
    assert depends_on(plan, "jobs-trigger-authentication", "keda-release", "jobs-scaler-secret")
    assert depends_on(plan, "jobs-scaled-object", "keda-release", "jobs-trigger-authentication", "jobs-worker")


@pytest.mark.parametrize(
    ("url", "address", "username", "password", "database"),
    [
        ("rediss://:tok%40en@primary.cache.amazonaws.com:6379/0", "primary.cache.amazonaws.com:6379", "", "tok@en", 0),
        ("redis://user:pw@redis.example.com/3", "redis.example.com:6379", "user", "pw", 3),
        ("rediss://redis.example.com:6380", "redis.example.com:6380", "", "", 0),
    ],
)
def test_the_redis_url_is_split_into_what_kedas_scaler_reads(
    url: str, address: str, username: str, password: str, database: int
) -> None:
    found = jobs.redis_scaler_credentials(url)
    assert (found.address, found.username, found.password) == (address, username, password)
    assert jobs.redis_database(url) == database
    with pytest.raises(ValueError, match="value is not shown"):
        jobs.redis_scaler_credentials("https://secret-token@example.com")


def test_the_keda_and_datadog_values_exist_in_the_vendored_charts() -> None:
    plan = eks_plan("dev-tier-B", DATADOG_ON)
    for release, chart in (("keda-release", "keda"), ("datadog-release", "datadog")):
        defaults = yaml.safe_load((CHARTS / chart / "values.yaml").read_text(encoding="utf-8"))

        def unknown(values: dict, known: Any, path: str) -> list[str]:
            missing = []
            for key, value in values.items():
                if not isinstance(known, dict) or key not in known:
                    missing.append(f"{path}{key}")
                elif isinstance(value, dict) and isinstance(known[key], dict) and known[key]:
                    missing += unknown(value, known[key], f"{path}{key}.")
            return missing

        assert not unknown(named(plan, release)["inputs"]["values"], defaults, ""), chart


def test_datadog_is_absent_by_default_and_nothing_of_it_is_in_the_plan(plan: Plan) -> None:
    assert not [r for r in plan.resources if r["name"].startswith("datadog")]
    assert not [r for r in plan.resources if "datadog" in json.dumps(r["inputs"]).lower() and r["type"] == RELEASE]
    assert "DD_AGENT_HOST" not in json.dumps([r["inputs"] for r in plan.resources])


def test_datadog_when_enabled_runs_privileged_in_its_own_namespace_and_traces_the_app_and_workers() -> None:
    plan = eks_plan("prod-tier-B", DATADOG_ON)
    namespace = named(plan, "datadog-namespace")["inputs"]["metadata"]
    assert namespace["name"] == "datadog"
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    # The app's namespace is never loosened.
    assert named(plan, "app-namespace")["inputs"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
        "restricted"
    )
    key = named(plan, "datadog-api-key")["inputs"]
    assert (key["metadata"]["namespace"], key["stringData"]) == ("datadog", REDACTED)
    assert "dd-test-api-key" not in plan.to_json()
    release = named(plan, "datadog-release")["inputs"]
    assert (release["chart"], release["version"], release["namespace"]) == ("datadog", "3.240.0", "datadog")
    values = release["values"]
    assert values["datadog"]["apiKeyExistingSecret"] == key["metadata"]["name"]
    assert values["datadog"]["apm"] == {"portEnabled": True, "socketEnabled": False, "port": 8126}
    assert values["datadog"]["site"] == "datadoghq.com"
    assert depends_on(plan, "datadog-release", "datadog-namespace", "datadog-api-key", "nodes-group")
    for container, service in (
        (app_container(plan), "contentry-api"),
        (only_container(worker_template(plan)), "contentry-worker"),
    ):
        env = env_of(container)
        assert env["DATADOG_ENABLED"] == "true"
        assert env["DD_AGENT_HOST"] == {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.hostIP"}}
        assert (env["DD_SERVICE"], env["DD_ENV"], env["DD_VERSION"]) == (service, "prod", "1.0.0")
        assert env["DD_LOGS_INJECTION"] == "true"
    labels = worker_template(plan)["metadata"]["labels"]
    assert labels["tags.datadoghq.com/service"] == "contentry-worker"
    eu = named(eks_plan("dev-tier-B", (*DATADOG_ON, "datadogSite=datadoghq.eu")), "datadog-release")
    assert eu["inputs"]["values"]["datadog"]["site"] == "datadoghq.eu"


def test_datadog_without_its_key_or_with_an_unknown_site_is_refused_before_anything_is_registered() -> None:
    with pytest.raises(InvalidStackConfig) as caught:
        build_plan("dev", ("tier=B", "datadogEnabled=true", "datadogSite=datadoghq.org"), REPO_ROOT)
    keys = {p.key for p in caught.value.problems}
    assert {"contentry:datadogApiKey", "contentry:datadogSite"} <= keys


def test_the_nodes_hold_the_workers_at_their_minimum_and_maximum_and_refuse_what_cannot_fit() -> None:
    shape = node_shape("m7g.xlarge")
    assert pods_fit(shape, 1, [(4, jobs.QUEUE_METRICS_REQUESTS), (3, node_shape_pod())])
    assert not pods_fit(shape, 1, [(4, node_shape_pod())])
    # The Datadog Agent's DaemonSet takes its share of every node.
    crowded = [(5, jobs.QUEUE_METRICS_REQUESTS), (3, node_shape_pod())]
    assert pods_fit(shape, 1, crowded)
    assert not pods_fit(shape, 1, crowded, DATADOG_AGENT_DAEMONSET)
    with pytest.raises(InvalidStackConfig) as caught:
        build_plan("dev", ("tier=B", "workerPodMaxReplicas=40", "workerConcurrency=4"), REPO_ROOT)
    (problem,) = [p for p in caught.value.problems if p.key == "contentry:workerPodMaxReplicas"]
    assert "computeMaxSize 5 x c7g.2xlarge" in problem.message
    with pytest.raises(InvalidStackConfig) as caught:
        build_plan("dev", ("tier=B", "workerPodMinReplicas=36", "workerPodMaxReplicas=36"), REPO_ROOT)
    assert "contentry:workerPodMinReplicas" in {p.key for p in caught.value.problems}


def node_shape_pod() -> Any:
    from infra.capacity.kubernetes_nodes import Resources

    return Resources(1000, 1536)


def test_worker_keys_are_refused_on_tiers_a_and_c_and_min_must_not_exceed_max() -> None:
    with pytest.raises(InvalidStackConfig) as caught:
        build_plan("dev", ("workerPodMaxReplicas=4",), REPO_ROOT)
    assert "tier B (EKS) only" in next(
        p.message for p in caught.value.problems if p.key == "contentry:workerPodMaxReplicas"
    )
    with pytest.raises(InvalidStackConfig) as caught:
        build_plan("dev", ("tier=B", "workerPodMinReplicas=5", "workerPodMaxReplicas=4"), REPO_ROOT)
    assert "workerPodMinReplicas <= workerPodMaxReplicas" in next(
        p.message for p in caught.value.problems if p.key == "contentry:workerPodMinReplicas"
    )
