"""Every Kubernetes object in the plan, as the API server would receive it, is valid against the OpenAPI schema
of the cluster's Kubernetes version in strict mode (an unknown field is an error): the core kinds against the
schemas kubernetes-validate ships, the custom resources against the CRDs of the charts at their pinned versions
(tests/infra/kubernetes/charts): the TargetGroupBinding the load balancer controller's, the ScaledObject and the
ClusterTriggerAuthentication KEDA's."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from infra.plan.document import Plan
from infra.plan.recording import REDACTED
from tests.infra.kubernetes.k8s_support import CHARTS, EKS_STACKS, eks_plan, kubernetes_objects

TGB_KIND = "TargetGroupBinding"
CRDS = {
    TGB_KIND: "aws-load-balancer-controller/targetgroupbindings.crd.yaml",
    "ScaledObject": "keda/scaledobjects.crd.yaml",
    "ClusterTriggerAuthentication": "keda/clustertriggerauthentications.crd.yaml",
}


def manifest(resource: dict[str, Any]) -> dict[str, Any]:
    """The object as applied: a secret value stands in as a string map (what it decrypts to)."""
    document = copy.deepcopy(resource["inputs"])
    if document.get("stringData") == REDACTED:
        document["stringData"] = {"REDACTED": "redacted"}
    return document


@cache
def strict_crd_schema(kind: str, version: str) -> dict[str, Any]:
    crd = yaml.safe_load((CHARTS / CRDS[kind]).read_text())
    assert crd["spec"]["names"]["kind"] == kind
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = copy.deepcopy(served["schema"]["openAPIV3Schema"])

    def strict(node: Any) -> None:
        if isinstance(node, dict):
            if (
                node.get("type") == "object"
                and "properties" in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node.setdefault("additionalProperties", False)
            for value in node.values():
                strict(value)
        elif isinstance(node, list):
            for value in node:
                strict(value)

    strict(schema)
    # The CRD leaves metadata to the API server; it is checked as an ObjectMeta below.
    schema["properties"]["metadata"] = {"type": "object"}
    return schema


def validate(document: dict[str, Any], kubernetes_version: str) -> None:
    if document["kind"] in CRDS:
        api_version = document["apiVersion"].split("/")[1]
        jsonschema.Draft7Validator(strict_crd_schema(document["kind"], api_version)).validate(document)
        metadata_holder = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": document["metadata"]}
        kubernetes_validate.validate(metadata_holder, kubernetes_version, strict=True)
        return
    kubernetes_validate.validate(document, kubernetes_version, strict=True)


@pytest.mark.parametrize("stack_id", EKS_STACKS)
def test_every_kubernetes_object_is_valid_for_the_clusters_version(stack_id: str) -> None:
    plan: Plan = eks_plan(stack_id)
    version = plan.config["kubernetes"]["kubernetesVersion"]
    objects = kubernetes_objects(plan)
    kinds = {o["inputs"]["kind"] for o in objects}
    assert kinds == {
        "Namespace", "ServiceAccount", "Secret", "Service", "Deployment", "HorizontalPodAutoscaler",
        "PodDisruptionBudget", TGB_KIND, "ScaledObject", "ClusterTriggerAuthentication",
    }  # fmt: skip
    for resource in objects:
        try:
            validate(manifest(resource), version)
        except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as error:
            pytest.fail(f"{resource['name']}: {error.message} at {list(error.absolute_path)}")


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    [
        ("Deployment", ("spec", "template", "spec", "containers", 0, "securityContext", "readOnlyRootFs"), True),
        ("Deployment", ("spec", "replica"), 3),
        ("HorizontalPodAutoscaler", ("spec", "metrics", 0, "resource", "target", "averageUtilisation"), 60),
        (TGB_KIND, ("spec", "targetGroupArn"), "arn:aws:elasticloadbalancing:x"),
        (TGB_KIND, ("metadata", "label"), {"a": "b"}),
        ("ScaledObject", ("spec", "minReplicas"), 1),
        ("ScaledObject", ("spec", "triggers", 0, "authenticationRef", "kind"), "SecretAuthentication"),
        ("ClusterTriggerAuthentication", ("spec", "secretTargetRef", 0, "parameterName"), "password"),
    ],
)
def test_an_unknown_field_is_an_error(kind: str, path: tuple[str | int, ...], value: Any) -> None:
    """Strict mode: a typo'd field would be silently dropped by the API server; here it fails."""
    plan = eks_plan("dev-tier-B")
    resource = next(o for o in kubernetes_objects(plan) if o["inputs"]["kind"] == kind)
    document = manifest(resource)
    node: Any = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises((kubernetes_validate.ValidationError, jsonschema.ValidationError)):
        validate(document, "1.35")


def test_the_schemas_used_are_the_configured_versions() -> None:
    plan = eks_plan("dev-tier-B")
    deployment = next(o for o in kubernetes_objects(plan) if o["inputs"]["kind"] == "Deployment")
    assert kubernetes_validate.validate(manifest(deployment), "1.35", strict=True) == "1.35"
