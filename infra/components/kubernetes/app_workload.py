"""The app on Kubernetes: its namespace (Pod Security Admission `restricted` enforced), its own AWS identity
(Pod Identity: the app's secret, read only, and the files bucket), its settings as a Kubernetes Secret, the
Deployment, the Service the TargetGroupBinding registers, the HorizontalPodAutoscaler and the
PodDisruptionBudget. The manifests are pure data (infra/planning/kubernetes/workload.py).

Order matters (aws-load-balancer-controller docs, pod_readiness_gate.md): the readiness gate is injected into a
pod only when its namespace is labelled and its Service and TargetGroupBinding exist when it is created, and a
target group without a listener never turns healthy (aws-load-balancer-controller#3753). So: namespace, the
controller, the listener, the Service, the binding, then the Deployment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes

from infra.components.kubernetes.pod_identity import pod_identity
from infra.planning.kubernetes import workload
from infra.planning.kubernetes.iam import app_pod_policy
from infra.planning.naming import child_name


@dataclass(frozen=True)
class AppWorkloadArgs:
    name_prefix: str
    spec: workload.AppWorkloadSpec
    settings: pulumi.Output[str]
    """The app's settings document (a secret output): the same JSON the Secrets Manager secret holds."""
    cluster_name: pulumi.Input[str]
    app_secret_arn: pulumi.Input[str]
    files_bucket_arn: pulumi.Input[str]
    target_group_arn: pulumi.Input[str]
    provider: kubernetes.Provider
    load_balancer_ready: Sequence[pulumi.Resource]
    """The load balancer controller's release and the listener forwarding to the target group."""
    start_needs: Sequence[pulumi.Resource] = ()
    """What a pod connects through before it can be Ready: the Deployment (whose rollout `pulumi up` awaits)
    waits for them."""


class AppWorkload(pulumi.ComponentResource):
    deployment: kubernetes.apps.v1.Deployment
    namespace: pulumi.Output[str]
    namespace_resource: kubernetes.core.v1.Namespace
    settings_secret: kubernetes.core.v1.Secret
    """The job workers run in the same namespace from the same Secret: they are created after both."""

    def __init__(self, name: str, args: AppWorkloadArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:kubernetes:AppWorkload", name, None, opts)
        spec = args.spec
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)

        def after(*resources: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(resources))

        manifest = workload.namespace(spec)
        namespace = kubernetes.core.v1.Namespace(
            child_name(name, "namespace"), metadata=manifest["metadata"], opts=on_cluster
        )
        identity = pod_identity(
            self,
            name,
            name_prefix=args.name_prefix,
            cluster_name=args.cluster_name,
            namespace=spec.namespace,
            service_account=spec.service_account_name,
            policy=pulumi.Output.all(args.app_secret_arn, args.files_bucket_arn).apply(
                lambda arns: app_pod_policy(arns[0], arns[1])
            ),
            description=f"{args.name_prefix} app pods: read the app secret, use the files bucket",
        )
        manifest = workload.service_account(spec)
        account = kubernetes.core.v1.ServiceAccount(
            child_name(name, "service-account"),
            metadata=manifest["metadata"],
            automount_service_account_token=manifest["automountServiceAccountToken"],
            opts=after(namespace),
        )
        # The same values as the Secrets Manager secret, a Pulumi secret end to end (the provider also marks a
        # Secret's data secret in the state).
        values = pulumi.Output.secret(args.settings.apply(json.loads))
        manifest = workload.settings_secret(spec, values)
        settings = kubernetes.core.v1.Secret(
            child_name(name, "settings"),
            metadata=manifest["metadata"],
            type=manifest["type"],
            string_data=manifest["stringData"],
            opts=after(namespace),
        )
        manifest = workload.service(spec)
        service = kubernetes.core.v1.Service(
            child_name(name, "service"), metadata=manifest["metadata"], spec=manifest["spec"], opts=after(namespace)
        )
        manifest = workload.target_group_binding(spec, args.target_group_arn)
        binding = kubernetes.apiextensions.CustomResource(
            child_name(name, "target-group-binding"),
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=after(service, *args.load_balancer_ready),
        )
        manifest = workload.deployment(spec)
        self.deployment = kubernetes.apps.v1.Deployment(
            child_name(name, "deployment"),
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=after(binding, account, settings, identity.association, *args.start_needs),
        )
        manifest = workload.horizontal_pod_autoscaler(spec)
        kubernetes.autoscaling.v2.HorizontalPodAutoscaler(
            child_name(name, "autoscaler"),
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=after(self.deployment),
        )
        manifest = workload.pod_disruption_budget(spec)
        kubernetes.policy.v1.PodDisruptionBudget(
            child_name(name, "disruption-budget"),
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=after(namespace),
        )
        self.namespace_resource, self.settings_secret = namespace, settings
        self.namespace = namespace.metadata.apply(lambda meta: meta.name or spec.namespace)
        self.register_outputs({"namespace": self.namespace})
