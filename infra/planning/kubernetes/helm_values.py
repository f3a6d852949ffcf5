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


DEFAULT_MAX_GRACEFUL_TERMINATION_SECONDS: Final = 600
"""The Cluster Autoscaler's own default: how long it lets a pod stop when it empties a node."""


def cluster_autoscaler_values(
    *,
    cluster_name: pulumi.Input[str],
    region: str,
    image_tag: str,
    longest_grace_seconds: int = DEFAULT_MAX_GRACEFUL_TERMINATION_SECONDS,
) -> dict[str, Any]:
    """`longest_grace_seconds`: the longest pod grace period (a job worker's: its job's time limit and a margin).
    The autoscaler kills a stopping pod after `max-graceful-termination-sec` (600 s by default, kubernetes/
    autoscaler cluster-autoscaler FAQ), which would cut a long job short when it empties a node."""
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
            "max-graceful-termination-sec": max(DEFAULT_MAX_GRACEFUL_TERMINATION_SECONDS, longest_grace_seconds),
        },
    }


KEDA_NAMESPACE: Final = "keda"
DATADOG_NAMESPACE: Final = "datadog"
DATADOG_API_KEY_SECRET: Final = "datadog-api-key"  # noqa: S105 - a Secret's name, not a credential
DATADOG_API_KEY_FIELD: Final = "api-key"
"""The key the chart reads from `datadog.apiKeyExistingSecret` (DataDog/helm-charts charts/datadog/values.yaml)."""
DATADOG_TRACE_PORT: Final = 8126


def _keda_resources(name: str) -> dict[str, Any]:
    requests = _requests(name)
    return {
        "requests": {"cpu": f"{requests.cpu_millicores}m", "memory": f"{requests.memory_mib}Mi"},
        "limits": {"cpu": "1", "memory": "1000Mi"},  # the chart's own limits
    }


def keda_values(*, watch_namespace: str) -> dict[str, Any]:
    """KEDA (kedacore/charts v2.20.2 keda/values.yaml) with the least it needs:

    - `watchNamespace`: it scales workloads of the app's namespace only; the chart then binds its operator role
      with RoleBindings in that namespace and its own instead of cluster-wide (manager/clusterrolebindings.yaml);
    - `permissions.*.restrict.secret`: it reads Secrets only in its own namespace (KEDA_RESTRICT_SECRET_ACCESS;
      the cluster role loses `secrets` list/watch, manager/clusterrole.yaml), so the Redis credentials it needs
      are a Secret of their own there, and the app's Secret stays out of its reach;
    - no AWS identity: the redis scaler talks to Redis only.
    Its pods already meet Pod Security `restricted` (the chart's securityContext defaults); its CRDs are chart
    templates, so upgrades update them."""
    return {
        "watchNamespace": watch_namespace,
        "permissions": {
            "operator": {"restrict": {"secret": True}},
            "metricServer": {"restrict": {"secret": True}},
        },
        "image": {"pullPolicy": "IfNotPresent"},
        "resources": {
            "operator": _keda_resources("keda-operator"),
            "metricServer": _keda_resources("keda-metrics-apiserver"),
            "webhooks": _keda_resources("keda-admission-webhooks"),
        },
    }


def datadog_values(*, cluster_name: pulumi.Input[str], site: str) -> dict[str, Any]:
    """The Datadog Agent (DataDog/helm-charts datadog-3.240.0 charts/datadog/values.yaml) as a DaemonSet:

    - the API key from a Kubernetes Secret built from the Pulumi secret (`apiKeyExistingSecret`), never in the
      values (they are stored in the release, readable by anyone who can read Helm's release Secrets);
    - APM on the node's port 8126 (`apm.portEnabled`, a hostPort), not the socket: the socket would need a
      hostPath volume in the app's pods, which Pod Security `restricted` forbids;
    - logs only from annotated containers (the app's and the workers'), so they correlate with their traces
      and nothing else is billed;
    - the host name from the node's file (`providers.eks.ec2.useHostnameFromFile`): the nodes' metadata hop
      limit of 1 keeps IMDS out of the pods' reach (launch template).
    """
    agent, trace = Resources(200, 256), Resources(100, 256)
    return {
        "datadog": {
            "apiKeyExistingSecret": DATADOG_API_KEY_SECRET,
            "site": site,
            "clusterName": cluster_name,
            "apm": {"portEnabled": True, "socketEnabled": False, "port": DATADOG_TRACE_PORT},
            "logs": {"enabled": True, "containerCollectAll": False},
        },
        "agents": {
            "containers": {
                "agent": {"resources": _resources(agent)},
                "traceAgent": {"resources": _resources(trace)},
            }
        },
        "clusterAgent": {"enabled": True, "replicas": 1, "resources": _resources(Resources(100, 256))},
        "providers": {"eks": {"ec2": {"useHostnameFromFile": True}}},
    }
