"""The cluster's two controllers, each a Helm release at a pinned chart version with pinned values and its own
least-privilege Pod Identity role:

- the AWS Load Balancer Controller, which only registers the app's pods into the target group Pulumi owns
  (TargetGroupBinding);
- the Cluster Autoscaler, which grows and shrinks the managed node group to fit the pods. Chosen over Karpenter:
  one Deployment scaling the node group Pulumi declares (so the plan, the cost and the policy rules see the
  nodes), against Karpenter's own node launching, roles, interruption queue and nodes outside the node group.
  For 6-12 identical nodes it is the simplest robust choice.

`helm.v3.Release` is one resource in the plan (a v4 Chart is a component the mock engine cannot expand).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes

from infra.catalog.kubernetes_versions import (
    CLUSTER_AUTOSCALER_CHART,
    KEDA_CHART,
    LOAD_BALANCER_CONTROLLER_CHART,
    ClusterVersion,
    HelmChart,
)
from infra.components.kubernetes.pod_identity import pod_identity
from infra.planning.kubernetes.helm_values import (
    CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
    KEDA_NAMESPACE,
    LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
    SYSTEM_NAMESPACE,
    cluster_autoscaler_values,
    keda_values,
    load_balancer_controller_values,
)
from infra.planning.kubernetes.iam import cluster_autoscaler_policy, load_balancer_controller_policy
from infra.planning.kubernetes.workload import restricted_namespace
from infra.planning.naming import child_name

RELEASE_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class ControllerArgs:
    name_prefix: str
    cluster_name: pulumi.Input[str]
    region: str
    provider: kubernetes.Provider
    ready: Sequence[pulumi.Resource]
    """What the controller's pods need first: nodes to run on, CoreDNS to resolve AWS endpoints."""


def _release(
    parent: pulumi.Resource,
    name: str,
    chart: HelmChart,
    values: pulumi.Input[dict],
    args: ControllerArgs,
    depends_on: Sequence[pulumi.Resource],
    namespace: str = SYSTEM_NAMESPACE,
) -> kubernetes.helm.v3.Release:
    return kubernetes.helm.v3.Release(
        child_name(name, "release"),
        name=chart.name,
        chart=chart.name,
        version=chart.version,
        repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo=chart.repository),
        namespace=namespace,
        values=values,
        # A failed install or upgrade is rolled back, and `up` fails, instead of leaving a half-applied release.
        atomic=True,
        cleanup_on_fail=True,
        timeout=RELEASE_TIMEOUT_SECONDS,
        max_history=5,
        opts=pulumi.ResourceOptions(parent=parent, provider=args.provider, depends_on=[*args.ready, *depends_on]),
    )


class LoadBalancerController(pulumi.ComponentResource):
    release: kubernetes.helm.v3.Release

    def __init__(
        self,
        name: str,
        args: ControllerArgs,
        *,
        vpc_id: pulumi.Input[str],
        target_group_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("contentry:kubernetes:LoadBalancerController", name, None, opts)
        identity = pod_identity(
            self,
            name,
            name_prefix=args.name_prefix,
            cluster_name=args.cluster_name,
            namespace=SYSTEM_NAMESPACE,
            service_account=LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
            policy=pulumi.Output.from_input(target_group_arn).apply(load_balancer_controller_policy),
            description=f"{args.name_prefix} AWS Load Balancer Controller: register pods in the app's target group",
        )
        values = load_balancer_controller_values(cluster_name=args.cluster_name, region=args.region, vpc_id=vpc_id)
        self.release = _release(self, name, LOAD_BALANCER_CONTROLLER_CHART, values, args, [identity.association])
        self.register_outputs({"release": self.release.name})


class ClusterAutoscaler(pulumi.ComponentResource):
    release: kubernetes.helm.v3.Release

    def __init__(
        self,
        name: str,
        args: ControllerArgs,
        *,
        versions: ClusterVersion,
        longest_grace_seconds: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("contentry:kubernetes:ClusterAutoscaler", name, None, opts)
        identity = pod_identity(
            self,
            name,
            name_prefix=args.name_prefix,
            cluster_name=args.cluster_name,
            namespace=SYSTEM_NAMESPACE,
            service_account=CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
            policy=pulumi.Output.from_input(args.cluster_name).apply(cluster_autoscaler_policy),
            description=f"{args.name_prefix} Cluster Autoscaler: resize this cluster's node group",
        )
        values = cluster_autoscaler_values(
            cluster_name=args.cluster_name,
            region=args.region,
            image_tag=versions.cluster_autoscaler_image_tag,
            longest_grace_seconds=longest_grace_seconds,
        )
        self.release = _release(self, name, CLUSTER_AUTOSCALER_CHART, values, args, [identity.association])
        self.register_outputs({"release": self.release.name})


class Keda(pulumi.ComponentResource):
    """KEDA, which scales the job workers on the Redis queue's length: its own namespace (Pod Security
    `restricted`: its pods meet it), the chart at a pinned version with least-privilege values
    (helm_values.keda_values), and no AWS identity. The ScaledObject and its ClusterTriggerAuthentication depend
    on `release`: the chart installs their CRDs."""

    release: kubernetes.helm.v3.Release
    namespace: kubernetes.core.v1.Namespace

    def __init__(
        self,
        name: str,
        args: ControllerArgs,
        *,
        kubernetes_version: str,
        watch_namespace: str,
        watched: Sequence[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("contentry:kubernetes:Keda", name, None, opts)
        manifest = restricted_namespace(KEDA_NAMESPACE, kubernetes_version)
        self.namespace = kubernetes.core.v1.Namespace(
            child_name(name, "namespace"),
            metadata=manifest["metadata"],
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        # `watched`: the namespace KEDA watches exists first (the chart binds its role there).
        self.release = _release(
            self,
            name,
            KEDA_CHART,
            keda_values(watch_namespace=watch_namespace),
            args,
            [self.namespace, *watched],
            namespace=KEDA_NAMESPACE,
        )
        self.register_outputs({"release": self.release.name})
