"""Helpers for the tier B tests: the EKS stacks' plans and their resources by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.plan.document import Plan
from tests.infra.plans import STACKS, plan_of

EKS_STACKS = ("dev-tier-B", "prod-tier-B")
CHARTS = Path(__file__).resolve().parent / "charts"

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
RELEASE = "kubernetes:helm.sh/v3:Release"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"


def eks_plan(stack_id: str, extra: tuple[str, ...] = ()) -> Plan:
    stack, overrides = STACKS[stack_id]
    return plan_of(stack, (*overrides, *extra))


def named(plan: Plan, name: str) -> dict[str, Any]:
    found = [r for r in plan.resources if r["name"] == name]
    assert len(found) == 1, f"{plan.stack}: expected one resource named {name}, found {len(found)}"
    return found[0]


def urn_of(plan: Plan, name: str) -> str:
    return named(plan, name)["urn"]


def depends_on(plan: Plan, name: str, *others: str) -> bool:
    return all(urn_of(plan, other) in named(plan, name)["options"]["dependsOn"] for other in others)


def pod_template(plan: Plan) -> dict[str, Any]:
    return named(plan, "app-deployment")["inputs"]["spec"]["template"]


def app_container(plan: Plan) -> dict[str, Any]:
    (container,) = pod_template(plan)["spec"]["containers"]
    return container


def policy_document(plan: Plan, name: str) -> dict[str, Any]:
    return json.loads(named(plan, name)["inputs"]["policy"])


def kubernetes_objects(plan: Plan) -> list[dict[str, Any]]:
    """Every Kubernetes object of the plan as a manifest (Helm releases are not objects; providers neither)."""
    return [r for r in plan.resources if r["type"].startswith("kubernetes:") and r["type"] != RELEASE and r["custom"]]
