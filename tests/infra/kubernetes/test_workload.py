"""The app on Kubernetes through the plan: namespace, identity, settings Secret, Deployment, Service, HPA, PDB and
the TargetGroupBinding, and the order they are created in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.plan.document import Plan
from infra.plan.recording import REDACTED
from infra.planning.compute.health_check import DEREGISTRATION_DELAY_SECONDS
from infra.planning.kubernetes.workload import APP_UID, SETTINGS_CHECKSUM_ANNOTATION
from tests.infra.kubernetes.k8s_support import (
    EKS_STACKS,
    app_container,
    depends_on,
    eks_plan,
    named,
    pod_template,
    policy_document,
)
from tests.infra.plans import REPO_ROOT


@pytest.fixture(params=EKS_STACKS)
def plan(request: pytest.FixtureRequest) -> Plan:
    return eks_plan(request.param)


def test_the_namespace_enforces_the_restricted_pod_security_standard(plan: Plan) -> None:
    labels = named(plan, "app-namespace")["inputs"]["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.35"
    assert labels["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"


def test_the_app_identity_reads_only_its_secret_and_uses_only_the_files_bucket(plan: Plan) -> None:
    association = named(plan, "app-identity")["inputs"]
    assert (association["namespace"], association["serviceAccount"]) == ("contentry", "api")
    assert association["roleArn"].endswith(":app-role")
    statements = policy_document(plan, "app-role-policy")["Statement"]
    resources = {r for s in statements for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    secret_arn = plan.outputs["appSecretArn"]
    bucket = next(r for r in resources if r.startswith("arn:aws:s3") and not r.endswith("/*"))
    assert resources == {secret_arn, bucket, f"{bucket}/*"}
    assert "files-uploads" in bucket
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {
        "secretsmanager:GetSecretValue",
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
    }
    trust = policy_document_of_role(plan, "app-role")
    assert trust["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}


def policy_document_of_role(plan: Plan, name: str) -> dict:
    import json

    return json.loads(named(plan, name)["inputs"]["assumeRolePolicy"])


def test_the_settings_secret_is_a_pulumi_secret_and_feeds_the_container(plan: Plan) -> None:
    secret = named(plan, "app-settings")["inputs"]
    assert secret["stringData"] == REDACTED
    assert secret["metadata"]["name"] == "api-settings"
    container = app_container(plan)
    assert container["envFrom"] == [{"secretRef": {"name": "api-settings"}}]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["APP_ENV"] == "production"
    assert env["APP_RELEASE"] == "1.0.0"
    assert env["GUNICORN_BIND"] == "0.0.0.0:8000"


def test_the_deployment_runs_the_stacks_image_under_the_images_own_gunicorn(plan: Plan) -> None:
    container = app_container(plan)
    assert container["image"] == f"{plan.outputs['imageRepositoryUrl']}:1.0.0"
    assert "command" not in container
    assert "args" not in container
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]


def test_probes_use_the_health_endpoints_with_room_for_a_busy_pod(plan: Plan) -> None:
    container = app_container(plan)
    assert container["startupProbe"]["httpGet"]["path"] == "/api/health/live"
    assert container["livenessProbe"]["httpGet"]["path"] == "/api/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/health/ready"
    readiness, liveness = container["readinessProbe"], container["livenessProbe"]
    assert readiness["timeoutSeconds"] >= 5
    assert readiness["failureThreshold"] >= 3
    assert readiness["periodSeconds"] * readiness["failureThreshold"] >= 30
    assert (
        liveness["periodSeconds"] * liveness["failureThreshold"]
        > readiness["periodSeconds"] * readiness["failureThreshold"]
    )
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60


def test_requests_and_limits_follow_the_config(plan: Plan) -> None:
    assert app_container(plan)["resources"] == {
        "requests": {"cpu": "1000m", "memory": "1536Mi"},
        "limits": {"cpu": "2000m", "memory": "1536Mi"},
    }
    changed = eks_plan("dev-tier-B", ("podCpuRequestMillicores=500", "podMemoryRequestMib=1024"))
    assert app_container(changed)["resources"]["requests"] == {"cpu": "500m", "memory": "1024Mi"}


def test_pods_spread_across_zones_per_rollout(plan: Plan) -> None:
    spread = pod_template(plan)["spec"]["topologySpreadConstraints"]
    zone = next(c for c in spread if c["topologyKey"] == "topology.kubernetes.io/zone")
    assert zone["whenUnsatisfiable"] == "DoNotSchedule"
    assert zone["maxSkew"] == 1
    assert zone["matchLabelKeys"] == ["pod-template-hash"]


def test_no_pod_can_run_as_root_or_write_its_root_filesystem(plan: Plan) -> None:
    spec = pod_template(plan)["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == APP_UID
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    context = app_container(plan)["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] != 0
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["privileged"] is False
    # The only writable paths: an in-memory /tmp (and /dev/shm, gunicorn's worker tmp dir, which the runtime mounts).
    assert app_container(plan)["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert spec["volumes"] == [{"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}]


def test_the_pods_uid_is_the_images_numeric_user() -> None:
    dockerfile = (REPO_ROOT / "app" / "Dockerfile").read_text(encoding="utf-8")
    (user,) = re.findall(r"^USER (\d+):(\d+)$", dockerfile, flags=re.MULTILINE)
    assert (int(user[0]), int(user[1])) == (APP_UID, APP_UID)


def test_a_rollout_never_drops_capacity_and_a_stopping_pod_drains_first(plan: Plan) -> None:
    spec = named(plan, "app-deployment")["inputs"]["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}}
    assert "replicas" not in spec, "the HPA owns the replica count"
    pre_stop = app_container(plan)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pre_stop >= DEREGISTRATION_DELAY_SECONDS
    env = {e["name"]: int(e["value"]) for e in app_container(plan)["env"] if e["name"] == "GUNICORN_GRACEFUL_TIMEOUT"}
    assert spec["template"]["spec"]["terminationGracePeriodSeconds"] > pre_stop + env["GUNICORN_GRACEFUL_TIMEOUT"]
    (target_group,) = plan.of_type("aws:lb/targetGroup:TargetGroup")
    assert target_group["inputs"]["deregistrationDelay"] <= pre_stop


def test_the_service_hpa_and_pdb(plan: Plan) -> None:
    service = named(plan, "app-service")["inputs"]["spec"]
    assert service["type"] == "ClusterIP"
    assert service["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    hpa = named(plan, "app-autoscaler")["inputs"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (9, 27)
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}
    pdb = named(plan, "app-disruption-budget")["inputs"]["spec"]
    assert pdb["maxUnavailable"] == 1
    assert pdb["selector"] == named(plan, "app-deployment")["inputs"]["spec"]["selector"]
    changed = eks_plan("dev-tier-B", ("podMinReplicas=3", "podMaxReplicas=12"))
    hpa = named(changed, "app-autoscaler")["inputs"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 12)


def test_the_binding_registers_the_service_in_pulumis_target_group(plan: Plan) -> None:
    binding = named(plan, "app-target-group-binding")["inputs"]
    (target_group,) = plan.of_type("aws:lb/targetGroup:TargetGroup")
    assert binding["spec"] == {
        "serviceRef": {"name": "api", "port": 80},
        "targetGroupARN": f"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{target_group['name']}-"
        + binding["spec"]["targetGroupARN"].split(f"targetgroup/{target_group['name']}-")[1],
        "targetType": "ip",
    }
    assert binding["spec"]["targetGroupARN"].split(":targetgroup/")[1].startswith(target_group["name"])
    assert plan.outputs["targetGroupArn"] == binding["spec"]["targetGroupARN"]


def test_objects_are_created_in_the_order_the_readiness_gate_needs(plan: Plan) -> None:
    """namespace, controller, listener, Service, binding, then the Deployment (and its Pod Identity first)."""
    listener = "load-balancer-https" if plan.stack == "prod" else "load-balancer-http"
    assert depends_on(plan, "app-target-group-binding", "app-service", "load-balancer-controller-release", listener)
    assert depends_on(plan, "app-deployment", "app-target-group-binding", "app-identity", "app-settings")
    assert depends_on(plan, "app-service", "app-namespace")
    assert depends_on(plan, "load-balancer-controller-release", "load-balancer-controller-identity", "nodes-group")


def template_of(plan: Plan) -> dict:
    return pod_template(plan)


def test_a_new_image_tag_changes_the_pod_template() -> None:
    before = template_of(eks_plan("dev-tier-B"))
    after = template_of(eks_plan("dev-tier-B", ("appImageTag=1.4.2",)))
    assert before != after
    assert app_container(eks_plan("dev-tier-B", ("appImageTag=1.4.2",)))["image"].endswith(":1.4.2")


def test_a_changed_secret_changes_the_pod_template_and_nothing_leaks() -> None:
    one = ("cacheMode=external", "externalRedisUrl=rediss://default:first-password@redis.example.com:6380")
    two = ("cacheMode=external", "externalRedisUrl=rediss://default:second-password@redis.example.com:6380")
    first, second = eks_plan("dev-tier-B", one), eks_plan("dev-tier-B", two)
    checksum = SETTINGS_CHECKSUM_ANNOTATION
    a = template_of(first)["metadata"]["annotations"][checksum]
    b = template_of(second)["metadata"]["annotations"][checksum]
    assert re.fullmatch(r"[0-9a-f]{64}", a)
    assert re.fullmatch(r"[0-9a-f]{64}", b)
    assert a != b, "a changed secret must roll the pods"
    assert (
        template_of(first)["metadata"]["annotations"]
        == template_of(eks_plan("dev-tier-B", one))["metadata"]["annotations"]
    )
    for plan in (first, second):
        assert "first-password" not in plan.to_json()
        assert "second-password" not in plan.to_json()


def test_the_stack_exports_what_operators_need(plan: Plan) -> None:
    outputs = plan.outputs
    assert outputs["clusterName"] == f"contentry-{plan.stack}"
    assert outputs["url"].startswith("https://" if plan.stack == "prod" else "http://")
    assert outputs["targetGroupName"].startswith("load-balancer-app-tg")
    assert outputs["kubeconfig"] == REDACTED
    # verify's capacity check on tier B reads the HPA's minimum: the two must be the same number.
    assert outputs["appMinReplicas"] == named(plan, "app-autoscaler")["inputs"]["spec"]["minReplicas"]


def test_the_chart_values_keys_exist_in_the_vendored_charts(plan: Plan) -> None:
    import yaml

    from tests.infra.kubernetes.k8s_support import CHARTS

    for release, chart in (
        ("load-balancer-controller-release", "aws-load-balancer-controller"),
        ("cluster-autoscaler-release", "cluster-autoscaler"),
    ):
        defaults = yaml.safe_load((CHARTS / chart / "values.yaml").read_text(encoding="utf-8"))
        values = named(plan, release)["inputs"]["values"]
        unknown = [key for key in values if key not in defaults]
        assert not unknown, f"{chart}: values the chart does not define: {unknown}"
        for key in ("serviceAccount", "rbac", "image", "autoDiscovery"):
            if key in values and isinstance(values[key], dict) and isinstance(defaults.get(key), dict):
                assert set(values[key]) <= set(defaults[key]), f"{chart}.{key}: {set(values[key]) - set(defaults[key])}"
    assert Path(CHARTS / "fetch.py").is_file()
