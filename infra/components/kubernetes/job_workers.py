"""The background jobs on tier B: the Celery workers (a Deployment in the app's namespace, the app's image and
settings Secret, the app's pod security, a PodDisruptionBudget), scaled by KEDA on the Redis `jobs` list, and
the queue metrics exporter that publishes the same CloudWatch metrics as tiers A and C (the jobs alarms read
them). Each has its own service account and Pod Identity role. The manifests are pure data
(infra/planning/kubernetes/jobs.py).

Why KEDA rather than an HPA on an external metric: the queue's length is in Redis, and an HPA on it would need
an external-metrics adapter (KEDA's metrics server is one; the CloudWatch adapters are archived or need the
metric to go through CloudWatch first, a minute or more late and billed per call). KEDA reads the list itself
every few seconds, creates and owns the HPA, and needs no AWS permission at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes

from infra.components.kubernetes.pod_identity import pod_identity
from infra.planning.kubernetes import jobs
from infra.planning.kubernetes.iam import queue_metrics_policy, worker_pod_policy
from infra.planning.naming import child_name


@dataclass(frozen=True)
class JobWorkersArgs:
    name_prefix: str
    spec: jobs.JobsSpec
    cluster_name: pulumi.Input[str]
    app_secret_arn: pulumi.Input[str]
    files_bucket_arn: pulumi.Input[str]
    redis_url: pulumi.Output[str]
    """Secret output: the app's REDIS_URL, split into the scaler's address, username and password."""
    provider: kubernetes.Provider
    app_ready: Sequence[pulumi.Resource]
    """The app's namespace and its settings Secret, which the workers read."""
    keda_namespace: pulumi.Resource
    keda_release: pulumi.Resource
    """KEDA's chart: it installs the ScaledObject and ClusterTriggerAuthentication CRDs."""
    start_needs: Sequence[pulumi.Resource] = ()
    """What a worker connects through before it can be Ready (the database user, the routes, the NAT)."""


def _scaler_credentials(url: str) -> Mapping[str, str]:
    found = jobs.redis_scaler_credentials(url)
    return {"address": found.address, "username": found.username, "password": found.password}


class JobWorkers(pulumi.ComponentResource):
    worker: kubernetes.apps.v1.Deployment
    exporter: kubernetes.apps.v1.Deployment
    scaled_object: kubernetes.apiextensions.CustomResource

    def __init__(self, name: str, args: JobWorkersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:kubernetes:JobWorkers", name, None, opts)
        spec = args.spec

        def after(*resources: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(resources))

        worker_identity = pod_identity(
            self,
            child_name(name, "worker"),
            name_prefix=args.name_prefix,
            cluster_name=args.cluster_name,
            namespace=spec.namespace,
            service_account=spec.worker_name,
            policy=pulumi.Output.all(args.app_secret_arn, args.files_bucket_arn).apply(
                lambda arns: worker_pod_policy(arns[0], arns[1])
            ),
            description=f"{args.name_prefix} job workers: read the app secret, process and quarantine uploads",
        )
        exporter_identity = pod_identity(
            self,
            child_name(name, "metrics"),
            name_prefix=args.name_prefix,
            cluster_name=args.cluster_name,
            namespace=spec.namespace,
            service_account=spec.exporter_name,
            policy=queue_metrics_policy(),
            description=f"{args.name_prefix} job queue metrics: publish to {jobs.JOBS_METRICS_NAMESPACE} only",
        )
        accounts = []
        for account_name, suffix in (
            (spec.worker_name, "worker-service-account"),
            (spec.exporter_name, "metrics-service-account"),
        ):
            manifest = jobs.service_account(spec, account_name)
            accounts.append(
                kubernetes.core.v1.ServiceAccount(
                    child_name(name, suffix),
                    metadata=manifest["metadata"],
                    automount_service_account_token=manifest["automountServiceAccountToken"],
                    opts=after(*args.app_ready),
                )
            )
        worker_account, exporter_account = accounts

        manifest = jobs.worker_deployment(spec)
        self.worker = kubernetes.apps.v1.Deployment(
            child_name(name, "worker"),
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=after(worker_account, worker_identity.association, *args.app_ready, *args.start_needs),
        )
        manifest = jobs.worker_pod_disruption_budget(spec)
        kubernetes.policy.v1.PodDisruptionBudget(
            child_name(name, "worker-disruption-budget"),
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=after(*args.app_ready),
        )
        manifest = jobs.queue_metrics_deployment(spec)
        self.exporter = kubernetes.apps.v1.Deployment(
            child_name(name, "metrics"),
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=after(exporter_account, exporter_identity.association, *args.app_ready, *args.start_needs),
        )

        # KEDA's Redis credentials: the same Pulumi secret values as the app's REDIS_URL, split, in KEDA's namespace
        # (the only one whose Secrets it may read). A secret end to end: the provider also marks Secret data secret.
        credentials = pulumi.Output.secret(args.redis_url.apply(_scaler_credentials))
        manifest = jobs.scaler_secret(spec, credentials)
        scaler_secret = kubernetes.core.v1.Secret(
            child_name(name, "scaler-secret"),
            metadata=manifest["metadata"],
            type=manifest["type"],
            string_data=manifest["stringData"],
            opts=after(args.keda_namespace),
        )
        manifest = jobs.trigger_authentication(spec)
        authentication = kubernetes.apiextensions.CustomResource(
            child_name(name, "trigger-authentication"),
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=after(scaler_secret, args.keda_release),
        )
        manifest = jobs.scaled_object(spec)
        self.scaled_object = kubernetes.apiextensions.CustomResource(
            child_name(name, "scaled-object"),
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=after(self.worker, authentication, args.keda_release),
        )
        self.register_outputs({"worker": self.worker.metadata.apply(lambda meta: meta.name)})
