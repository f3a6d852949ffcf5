"""The Datadog Agent on tier B, only with datadogEnabled: the official chart as a DaemonSet (and its Cluster
Agent) in a namespace of its own, the API key as a Kubernetes Secret built from the Pulumi secret.

The Agent reads the host (procfs, cgroups, the pods' log files) through hostPath volumes and takes traces on a
hostPort, which Pod Security `baseline` already forbids: its namespace enforces `privileged`, the one exception
the policy rules allow (infra/policy/kubernetes.py, PRIVILEGED_NAMESPACES). The app's namespace stays
`restricted`: its pods reach the Agent on their node's IP, with nothing of the host mounted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes

from infra.catalog.kubernetes_versions import DATADOG_CHART
from infra.planning.kubernetes.helm_values import (
    DATADOG_API_KEY_FIELD,
    DATADOG_API_KEY_SECRET,
    DATADOG_NAMESPACE,
    datadog_values,
)
from infra.planning.naming import child_name

RELEASE_TIMEOUT_SECONDS = 600


def privileged_namespace(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {
                "app.kubernetes.io/part-of": "contentry",
                "pod-security.kubernetes.io/enforce": "privileged",
                "pod-security.kubernetes.io/audit": "privileged",
                "pod-security.kubernetes.io/warn": "privileged",
            },
        },
    }


@dataclass(frozen=True)
class DatadogAgentArgs:
    cluster_name: pulumi.Input[str]
    site: str
    api_key: pulumi.Output[str]
    """A secret output (datadogApiKey)."""
    provider: kubernetes.Provider
    ready: Sequence[pulumi.Resource]
    """Nodes to run on and CoreDNS to resolve the intake."""


class DatadogAgent(pulumi.ComponentResource):
    release: kubernetes.helm.v3.Release

    def __init__(self, name: str, args: DatadogAgentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:kubernetes:DatadogAgent", name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        manifest = privileged_namespace(DATADOG_NAMESPACE)
        namespace = kubernetes.core.v1.Namespace(
            child_name(name, "namespace"), metadata=manifest["metadata"], opts=on_cluster
        )
        api_key = kubernetes.core.v1.Secret(
            child_name(name, "api-key"),
            metadata={"name": DATADOG_API_KEY_SECRET, "namespace": DATADOG_NAMESPACE},
            type="Opaque",
            string_data=pulumi.Output.secret(args.api_key.apply(lambda key: {DATADOG_API_KEY_FIELD: key})),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[namespace]),
        )
        self.release = kubernetes.helm.v3.Release(
            child_name(name, "release"),
            name=DATADOG_CHART.name,
            chart=DATADOG_CHART.name,
            version=DATADOG_CHART.version,
            repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo=DATADOG_CHART.repository),
            namespace=DATADOG_NAMESPACE,
            values=datadog_values(cluster_name=args.cluster_name, site=args.site),
            atomic=True,
            cleanup_on_fail=True,
            timeout=RELEASE_TIMEOUT_SECONDS,
            max_history=5,
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[namespace, api_key, *args.ready]
            ),
        )
        self.register_outputs({"release": self.release.name})
