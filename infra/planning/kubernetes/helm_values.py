"""Pinned values of the two Helm charts the cluster runs: the AWS Load Balancer Controller and the Cluster
Autoscaler. Every key exists in the chart's values.yaml at the pinned version (a test checks them against the
vendored copies in tests/infra/kubernetes/charts/).

Both run with their own Pod Identity role, and with `region` (and the VPC) given explicitly: at a metadata hop
limit of 1 they cannot ask the instance metadata service (aws-load-balancer-controller#2231, #4307).
"""

from __future__ import annotations

from typing import Any, Final

import pulumi

from infra.capacity.kubernetes_nodes import SYSTEM_PODS, Resources

LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT: Final = "aws-load-balancer-controller"
CLUSTER_AUTOSCALER_SERVICE_ACCOUNT: Final = "cluster-autoscaler"
SYSTEM_NAMESPACE: Final = "kube-system"
NOBODY: Final = 65534

_RESTRICTED_CONTAINER: Final = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
}


def _requests(name: str) -> Resources:
    return next(pod for pod_name, _, pod in SYSTEM_PODS if pod_name == name)


def _resources(requests: Resources) -> dict[str, Any]:
    return {
        "requests": {"cpu": f"{requests.cpu_millicores}m", "memory": f"{requests.memory_mib}Mi"},
        "limits": {"memory": f"{requests.memory_mib * 2}Mi"},
    }


def load_balancer_controller_values(
    *, cluster_name: pulumi.Input[str], region: str, vpc_id: pulumi.Input[str]
) -> dict[str, Any]:
    return {
        "clusterName": cluster_name,
        "region": region,
        "vpcId": vpc_id,
        "replicaCount": 2,
        "serviceAccount": {"create": True, "name": LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT},
        "resources": _resources(_requests("aws-load-balancer-controller")),
        "podDisruptionBudget": {"maxUnavailable": 1},
        "podSecurityContext": {"fsGroup": NOBODY, "seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": _RESTRICTED_CONTAINER,
        # It only binds pods to the target group Pulumi owns: no IngressClass, and no webhook that would claim
        # every new Service of type LoadBalancer.
        "createIngressClassResource": False,
        "enableServiceMutatorWebhook": False,
        # Keep the webhook's TLS secret across upgrades: a regenerated one replaces a Secret at every `up`
        # (pulumi/pulumi-kubernetes#2131) and fails webhook calls mid-upgrade (aws-load-balancer-controller#2239).
        "keepTLSSecret": True,
    }


def cluster_autoscaler_values(*, cluster_name: pulumi.Input[str], region: str, image_tag: str) -> dict[str, Any]:
    return {
        "cloudProvider": "aws",
        "awsRegion": region,
        # Discovers the node group's Auto Scaling group by the tags EKS puts on it, with its min and max.
        "autoDiscovery": {"clusterName": cluster_name},
        "image": {"tag": image_tag},
        "fullnameOverride": "cluster-autoscaler",
        "rbac": {"serviceAccount": {"create": True, "name": CLUSTER_AUTOSCALER_SERVICE_ACCOUNT}},
        "resources": _resources(_requests("cluster-autoscaler")),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": NOBODY,
            "runAsGroup": NOBODY,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containerSecurityContext": _RESTRICTED_CONTAINER,
        "extraArgs": {
            # The node group spans every AZ; keep its zones even so zone-spread pods always find room.
            "balance-similar-node-groups": True,
            "expander": "least-waste",
            # Nodes running kube-system Deployments may be drained too (their PodDisruptionBudgets apply).
            "skip-nodes-with-system-pods": False,
            "scale-down-utilization-threshold": 0.5,
        },
    }
