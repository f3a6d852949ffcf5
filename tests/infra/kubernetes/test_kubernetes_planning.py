"""Tier B's pure functions, without the engine: versions, node capacity, IAM documents, kubeconfig, timing."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from infra.capacity.kubernetes_nodes import (
    Resources,
    allocatable,
    app_pod_capacity,
    kube_reserved_cpu_millicores,
    node_shape,
    pods_per_node,
)
from infra.catalog import kubernetes_versions as versions
from infra.planning.compute.health_check import (
    DEREGISTRATION_DELAY_SECONDS,
    HEALTH_CHECK_INTERVAL_SECONDS,
    UNHEALTHY_THRESHOLD,
)
from infra.planning.kubernetes import iam, timing
from infra.planning.kubernetes.kubeconfig import kubeconfig
from infra.planning.kubernetes.workload import AppWorkloadSpec

CHECKED = dt.date(2026, 11, 25)  # when the versions table was last checked against EKS's calendar


def test_every_listed_version_is_in_standard_support_when_checked_and_pins_every_addon() -> None:
    for version, pins in versions.KUBERNETES_VERSIONS.items():
        assert pins.standard_support_ends > CHECKED, f"{version} leaves standard support; drop it from the table"
        assert set(pins.addons) == set(versions.ADDONS)
        assert all(v.startswith("v") and "-eksbuild." in v for v in pins.addons.values())
        assert pins.cluster_autoscaler_image_tag.startswith(f"v{version}."), "the autoscaler's minor is Kubernetes'"
    assert versions.DEFAULT_KUBERNETES_VERSION in versions.KUBERNETES_VERSIONS
    assert set(versions.ADDONS_BEFORE_NODES) | set(versions.ADDONS_AFTER_NODES) == set(versions.ADDONS)
    with pytest.raises(ValueError, match=r"allowed: 1\.35"):
        versions.cluster_version("1.34")


@pytest.mark.parametrize(
    ("instance_type", "vcpus", "memory_gib", "max_pods"),
    [("m7g.xlarge", 4, 16, 58), ("c7g.2xlarge", 8, 16, 58), ("r7i.large", 2, 16, 29), ("m6i.4xlarge", 16, 64, 234)],
)
def test_node_shapes(instance_type: str, vcpus: int, memory_gib: int, max_pods: int) -> None:
    shape = node_shape(instance_type)
    assert (shape.vcpus, shape.memory_mib, shape.max_pods) == (vcpus, memory_gib * 1024, max_pods)


def test_allocatable_follows_eks_reservations() -> None:
    assert kube_reserved_cpu_millicores(4) == 80  # 60 + 10 + 2 x 5 (nodeadm)
    assert kube_reserved_cpu_millicores(8) == 90  # + 4 x 2.5
    room = allocatable(node_shape("m7g.xlarge"))
    assert room.cpu_millicores == 4000 - 80 - 150
    assert room.memory_mib == int(16384 * 0.925) - (11 * 58 + 255) - 100 - 256


def test_pod_capacity() -> None:
    shape, pod = node_shape("m7g.xlarge"), Resources(1000, 1536)
    assert pods_per_node(shape, pod) == 3
    assert app_pod_capacity(shape, 12, pod) == 34  # two slots to the cluster's own pods (KEDA and the exporter too)
    assert pods_per_node(shape, Resources(500, 8192)) == 1  # memory-bound
    assert app_pod_capacity(shape, 1, Resources(4000, 512)) == 0


@pytest.mark.parametrize("instance_type", ["t4g.large", "i4i.xlarge", "m7g.metal", "m7g.48xlarge", "nonsense"])
def test_unsizable_node_types_are_refused_with_what_is_allowed(instance_type: str) -> None:
    with pytest.raises(ValueError, match="use a c, m or r family type"):
        node_shape(instance_type)


def statements(document: str) -> list[dict]:
    return json.loads(document)["Statement"]


def listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


@pytest.mark.parametrize(
    "document",
    [
        iam.load_balancer_controller_policy("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg/1"),
        iam.cluster_autoscaler_policy("contentry-prod"),
        iam.app_pod_policy("arn:aws:secretsmanager:us-east-1:1:secret:s", "arn:aws:s3:::bucket"),
        iam.secrets_encryption_policy("arn:aws:kms:us-east-1:1:key/k"),
    ],
)
def test_no_policy_grants_a_wildcard_resource_except_for_actions_that_require_it(document: str) -> None:
    for statement in statements(document):
        assert statement["Effect"] == "Allow"
        assert not any(action.endswith("*") for action in listed(statement["Action"]))
        if statement["Resource"] == "*":
            unscoped = set(listed(statement["Action"])) - iam.ACTIONS_WITHOUT_RESOURCE_SCOPE
            assert not unscoped or statement.get("Condition"), f"{unscoped} need a resource or a condition"


def test_the_controllers_write_only_where_they_must() -> None:
    target_group = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg/1"
    (_, write) = statements(iam.load_balancer_controller_policy(target_group))
    assert write["Resource"] == target_group
    assert "elasticloadbalancing:RegisterTargets" in write["Action"]
    (_, scale) = statements(iam.cluster_autoscaler_policy("contentry-prod"))
    assert scale["Condition"]["StringEquals"]["aws:ResourceTag/k8s.io/cluster-autoscaler/contentry-prod"] == "owned"


def test_pod_roles_trust_only_pod_identity() -> None:
    (statement,) = statements(iam.pod_identity_trust_policy())
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]


def test_the_kubeconfig_fetches_a_token_with_the_aws_cli_and_holds_no_credential() -> None:
    document = json.loads(
        kubeconfig(cluster_name="c", endpoint="https://x", certificate_authority="Q0E=", region="eu-west-1")
    )
    user = document["users"][0]["user"]
    assert set(user) == {"exec"}
    assert user["exec"]["command"] == "aws"
    assert user["exec"]["args"][:4] == ["--region", "eu-west-1", "eks", "get-token"]
    assert document["clusters"][0]["cluster"] == {"server": "https://x", "certificate-authority-data": "Q0E="}


def test_timings_cover_the_load_balancers() -> None:
    assert timing.PRESTOP_SLEEP_SECONDS >= DEREGISTRATION_DELAY_SECONDS
    assert timing.TERMINATION_GRACE_SECONDS > timing.PRESTOP_SLEEP_SECONDS + timing.GUNICORN_GRACEFUL_TIMEOUT_SECONDS
    # Out of rotation as late as the ALB would take a target out, never sooner.
    assert timing.READINESS_PROBE.gives_up_after_seconds == HEALTH_CHECK_INTERVAL_SECONDS * UNHEALTHY_THRESHOLD
    assert timing.LIVENESS_PROBE.gives_up_after_seconds > timing.READINESS_PROBE.gives_up_after_seconds
    for probe in (timing.STARTUP_PROBE, timing.LIVENESS_PROBE, timing.READINESS_PROBE):
        assert probe.timeout_seconds < probe.period_seconds


def spec(**changes: object) -> AppWorkloadSpec:
    base: dict = {
        "namespace": "contentry", "name": "api", "kubernetes_version": "1.35", "image": "r/api:1", "release": "1",
        "region": "us-east-1", "requests": Resources(1000, 1536), "min_replicas": 3, "max_replicas": 6,
        "settings_secret_name": "api-settings", "settings_checksum": "0" * 64, "service_account_name": "api",
    }  # fmt: skip
    return AppWorkloadSpec(**{**base, **changes})


def test_extra_environment_is_one_line_away_and_cannot_override_the_program_or_the_secret() -> None:
    from infra.planning.kubernetes.workload import deployment

    env = deployment(spec(extra_environment={"MONGO_MAX_POOL_SIZE": "40"}))["spec"]["template"]["spec"]["containers"][
        0
    ]["env"]
    assert {"name": "MONGO_MAX_POOL_SIZE", "value": "40"} in env
    for name in ("APP_ENV", "MONGO_URL", "CDN_DOMAIN"):
        with pytest.raises(ValueError, match="extra_environment cannot change it"):
            spec(extra_environment={name: "x"})
    with pytest.raises(ValueError, match="not an environment variable name"):
        spec(extra_environment={"bad-name": "x"})
    with pytest.raises(ValueError, match="replicas"):
        spec(min_replicas=7)
