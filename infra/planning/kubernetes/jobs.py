"""The background jobs on Kubernetes as plain manifests: the Celery workers' Deployment and PodDisruptionBudget,
the queue metrics exporter's Deployment, and KEDA's ScaledObject with the credentials its Redis scaler reads.

Same image, same settings Secret and the same restricted pod security as the app (workload.py); each process
has its own service account, so each gets its own Pod Identity role. The ScaledObject and its
ClusterTriggerAuthentication are checked against the CRDs of KEDA's pinned chart (tests/infra/kubernetes/charts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import pulumi

from infra.capacity.kubernetes_fleet import POD_CPU_LIMIT_FACTOR, ROLLING_MAX_SURGE_PERCENT
from infra.capacity.kubernetes_nodes import Resources
from infra.planning.kubernetes.datadog import DatadogTracing, datadog_log_annotations, tracing_environment
from infra.planning.kubernetes.iam import JOBS_METRICS_NAMESPACE
from infra.planning.kubernetes.workload import (
    SETTINGS_CHECKSUM_ANNOTATION,
    TMP_SIZE_LIMIT,
    container_security_context,
    pod_security_context,
)

WORKER_COMMAND: Final = ("python", "-m", "app.jobs.worker")
HEALTHCHECK_COMMAND: Final = ("python", "-m", "app.jobs.healthcheck")
QUEUE_METRICS_COMMAND: Final = ("python", "-m", "app.jobs.queue_metrics")
QUEUE_METRICS_CHECK: Final = (*QUEUE_METRICS_COMMAND, "--check")
"""Not in the issue's contract yet (asked of jobs-app in the report): exit 0 iff the exporter published within
its last few intervals. The policy requires a liveness and a readiness probe on every container."""
JOBS_QUEUE: Final = "jobs"
"""Celery's Redis list for the queue `jobs` (the contract): what KEDA's scaler measures."""
UPLOAD_QUARANTINE_PREFIX: Final = "quarantine/"
JOBS_METRICS_INTERVAL_SECONDS: Final = 60

SHUTDOWN_MARGIN_SECONDS: Final = 30
"""Beyond the longest job's hard time limit: Celery's warm shutdown acknowledges the finished job, closes its
broker and database connections and exits."""
HEALTHCHECK_PERIOD_SECONDS: Final = 60
HEALTHCHECK_TIMEOUT_SECONDS: Final = 30
"""A ping waits up to 5 s for the worker's answer, after a Python start that imports Celery and the app (a few
seconds more on a busy pod): 30 s is generous, and the period is twice that, so probes never overlap."""
KEDA_POLLING_SECONDS: Final = 15
"""How often KEDA reads the list's length (its default is 30): a burst of uploads starts workers sooner."""
SCALE_DOWN_STABILIZATION_SECONDS: Final = 300
"""Scale in only after five minutes of a shorter queue: a stopping worker finishes its job first, so flapping
would cost whole time limits of capacity."""


def termination_grace_seconds(job_time_limit_seconds: int) -> int:
    """A stopping worker (a rollout, KEDA scaling in, a node drained) finishes its running job before SIGKILL."""
    return job_time_limit_seconds + SHUTDOWN_MARGIN_SECONDS


@dataclass(frozen=True)
class JobsSpec:
    namespace: str
    kubernetes_version: str
    image: pulumi.Input[str]
    release: str
    region: str
    stack: str
    concurrency: int
    job_time_limit_seconds: int
    worker_requests: Resources
    min_replicas: int
    max_replicas: int
    queue_depth_target: int
    settings_secret_name: str
    settings_checksum: pulumi.Input[str]
    redis_tls: bool
    redis_database: int
    worker_tracing: DatadogTracing | None = None
    extra_environment: Mapping[str, str] = field(default_factory=dict)
    """MONGO_MAX_POOL_SIZE from the connection budget."""
    worker_name: str = "worker"
    exporter_name: str = "queue-metrics"
    scaler_secret_name: str = "keda-redis-jobs"  # noqa: S105 - a Secret's name, not a credential
    scaler_secret_namespace: str = "keda"  # noqa: S105 - a namespace, not a credential

    def __post_init__(self) -> None:
        if not 1 <= self.min_replicas <= self.max_replicas:
            raise ValueError(f"worker replicas min {self.min_replicas} <= max {self.max_replicas} is required")

    def labels(self, name: str) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/part-of": "contentry",
            "app.kubernetes.io/managed-by": "pulumi",
        }

    def selector(self, name: str) -> dict[str, str]:
        return {"app.kubernetes.io/name": name}

    def metadata(self, name: str) -> dict[str, Any]:
        return {"name": name, "namespace": self.namespace, "labels": self.labels(name)}


def jobs_environment(spec: JobsSpec) -> dict[str, str]:
    """What every jobs process gets besides the app's secret (the contract's names)."""
    return {
        "APP_ENV": "production",
        "AWS_REGION": spec.region,
        "APP_RELEASE": spec.release,
        "STACK_NAME": spec.stack,
        "JOBS_METRICS_NAMESPACE": JOBS_METRICS_NAMESPACE,
        "JOB_TIME_LIMIT_SECONDS": str(spec.job_time_limit_seconds),
        "UPLOAD_QUARANTINE_PREFIX": UPLOAD_QUARANTINE_PREFIX,
        **spec.extra_environment,
    }


def _env(values: Mapping[str, str], tracing: DatadogTracing | None = None) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = [{"name": name, "value": value} for name, value in sorted(values.items())]
    return listed + tracing_environment(tracing)


def _exec_probe(command: tuple[str, ...], period: int, timeout: int, failures: int) -> dict[str, Any]:
    return {
        "exec": {"command": list(command)},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
        "successThreshold": 1,
    }


def _resources(requests: Resources) -> dict[str, Any]:
    cpu, memory = f"{requests.cpu_millicores}m", f"{requests.memory_mib}Mi"
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": f"{requests.cpu_millicores * POD_CPU_LIMIT_FACTOR}m", "memory": memory},
    }


def _spread(selector: dict[str, str]) -> list[dict[str, Any]]:
    zone = {
        "maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": selector},
        "matchLabelKeys": ["pod-template-hash"],
    }
    return [zone, {**zone, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway"}]


def _pod_template(
    spec: JobsSpec,
    name: str,
    container: dict[str, Any],
    grace_seconds: int,
    tracing: DatadogTracing | None,
) -> dict[str, Any]:
    return {
        "metadata": {
            "labels": {**spec.labels(name), **(tracing.labels if tracing else {})},
            "annotations": {
                SETTINGS_CHECKSUM_ANNOTATION: spec.settings_checksum,
                **datadog_log_annotations(container["name"], tracing),
            },
        },
        "spec": {
            "serviceAccountName": name,
            "automountServiceAccountToken": False,
            "securityContext": pod_security_context(),
            "terminationGracePeriodSeconds": grace_seconds,
            "topologySpreadConstraints": _spread(spec.selector(name)),
            "containers": [container],
            "volumes": [{"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": TMP_SIZE_LIMIT}}],
        },
    }


def _deployment(spec: JobsSpec, name: str, template: dict[str, Any], replicas: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "selector": {"matchLabels": spec.selector(name)},
        "revisionHistoryLimit": 10,
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": f"{ROLLING_MAX_SURGE_PERCENT}%"},
        },
        "template": template,
    }
    if replicas is not None:
        body = {"replicas": replicas, **body}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": spec.metadata(name), "spec": body}


def service_account(spec: JobsSpec, name: str) -> dict[str, Any]:
    # Neither process calls the Kubernetes API: no token. EKS Pod Identity injects its own.
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": spec.metadata(name),
        "automountServiceAccountToken": False,
    }


def worker_deployment(spec: JobsSpec) -> dict[str, Any]:
    """No `replicas`: KEDA's HorizontalPodAutoscaler owns it (pulumi/pulumi-kubernetes#2491). A rollout starts
    a new worker (Ready once it answers Celery's ping) before stopping an old one, which finishes its job."""
    name = spec.worker_name
    container = {
        "name": name,
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "command": list(WORKER_COMMAND),
        "envFrom": [{"secretRef": {"name": spec.settings_secret_name}}],
        "env": _env({**jobs_environment(spec), "WORKER_CONCURRENCY": str(spec.concurrency)}, spec.worker_tracing),
        "resources": _resources(spec.worker_requests),
        # Celery's own ping to this pod's worker. Startup: three minutes to import, connect and join.
        "startupProbe": _exec_probe(HEALTHCHECK_COMMAND, HEALTHCHECK_PERIOD_SECONDS // 2, 20, 6),
        "readinessProbe": _exec_probe(HEALTHCHECK_COMMAND, HEALTHCHECK_PERIOD_SECONDS // 2, 20, 2),
        "livenessProbe": _exec_probe(HEALTHCHECK_COMMAND, HEALTHCHECK_PERIOD_SECONDS, HEALTHCHECK_TIMEOUT_SECONDS, 3),
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - a private emptyDir, not the host's
    }
    template = _pod_template(
        spec, name, container, termination_grace_seconds(spec.job_time_limit_seconds), spec.worker_tracing
    )
    return _deployment(spec, name, template, replicas=None)


def worker_pod_disruption_budget(spec: JobsSpec) -> dict[str, Any]:
    """One worker at a time may be evicted (a drain, the Cluster Autoscaler's scale-in); it finishes its job
    within its grace period. An unready worker may always be evicted."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": spec.metadata(spec.worker_name),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": spec.selector(spec.worker_name)},
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }


QUEUE_METRICS_REQUESTS: Final = Resources(100, 256)


def queue_metrics_deployment(spec: JobsSpec) -> dict[str, Any]:
    """One exporter publishing QueueDepth and OldestJobAgeSeconds to CloudWatch, as tiers A and C do, so the
    same alarms work on every tier."""
    name = spec.exporter_name
    interval = JOBS_METRICS_INTERVAL_SECONDS
    container = {
        "name": name,
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "command": list(QUEUE_METRICS_COMMAND),
        "envFrom": [{"secretRef": {"name": spec.settings_secret_name}}],
        "env": _env({**jobs_environment(spec), "JOBS_METRICS_INTERVAL_SECONDS": str(interval)}),
        "resources": _resources(QUEUE_METRICS_REQUESTS),
        "readinessProbe": _exec_probe(QUEUE_METRICS_CHECK, interval, 20, 3),
        "livenessProbe": _exec_probe(QUEUE_METRICS_CHECK, interval, 20, 5),
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - a private emptyDir, not the host's
    }
    return _deployment(spec, name, _pod_template(spec, name, container, 30, None), replicas=1)


@dataclass(frozen=True)
class RedisScalerCredentials:
    address: str
    username: str
    password: str


def redis_scaler_credentials(redis_url: str) -> RedisScalerCredentials:
    """KEDA's redis scaler does not read a URL: it takes `address` (host:port), `username` and `password`
    (kedacore/keda v2.20.2 pkg/scalers/redis_scaler.go, redisConnectionInfo), so the app's REDIS_URL is split
    here. An empty username is skipped by KEDA (its connection info is optional), which is ElastiCache's AUTH
    token case: the token is the default user's password."""
    parts = urlsplit(redis_url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError("REDIS_URL is not a redis:// or rediss:// URL with a host (the value is not shown)")
    return RedisScalerCredentials(
        address=f"{parts.hostname}:{parts.port or 6379}",
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def redis_database(redis_url: str) -> int:
    """The database index in a Redis URL's path (`/0` when absent): Celery's list lives there."""
    path = urlsplit(redis_url).path.strip("/")
    return int(path) if path.isdigit() else 0


def scaler_secret(spec: JobsSpec, credentials: pulumi.Input[Mapping[str, str]]) -> dict[str, Any]:
    """In KEDA's own namespace: KEDA runs with its secret access restricted to it (helm_values.keda_values)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": spec.scaler_secret_name,
            "namespace": spec.scaler_secret_namespace,
            "labels": spec.labels("keda"),
        },
        "type": "Opaque",
        "stringData": credentials,
    }


def trigger_authentication(spec: JobsSpec) -> dict[str, Any]:
    """A ClusterTriggerAuthentication: the only kind KEDA resolves when its secret access is restricted to its
    own namespace (kedacore/keda pkg/scaling/resolver/scale_resolvers.go, KEDA_RESTRICT_SECRET_ACCESS), so KEDA
    never reads the app's secret (its JWT keys, the database password)."""
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ClusterTriggerAuthentication",
        "metadata": {"name": spec.scaler_secret_name, "labels": spec.labels("keda")},
        "spec": {
            "secretTargetRef": [
                {"parameter": parameter, "name": spec.scaler_secret_name, "key": parameter}
                for parameter in ("address", "username", "password")
            ]
        },
    }


def scaled_object(spec: JobsSpec) -> dict[str, Any]:
    """KEDA's `redis` trigger on Celery's `jobs` list (keda.sh/docs/2.20/scalers/redis-lists): `listLength` is the
    target of waiting jobs per worker pod; `enableTLS` from the URL's scheme (ElastiCache is always rediss);
    `databaseIndex` from its path. KEDA creates and owns the HorizontalPodAutoscaler."""
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": spec.metadata(spec.worker_name),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.worker_name},
            "pollingInterval": KEDA_POLLING_SECONDS,
            "minReplicaCount": spec.min_replicas,
            "maxReplicaCount": spec.max_replicas,
            "advanced": {
                "horizontalPodAutoscalerConfig": {
                    "behavior": {
                        "scaleUp": {
                            "stabilizationWindowSeconds": 0,
                            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 60}],
                        },
                        "scaleDown": {
                            "stabilizationWindowSeconds": SCALE_DOWN_STABILIZATION_SECONDS,
                            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
                        },
                    }
                }
            },
            "triggers": [
                {
                    "type": "redis",
                    "metadata": {
                        "listName": JOBS_QUEUE,
                        "listLength": str(spec.queue_depth_target),
                        "enableTLS": "true" if spec.redis_tls else "false",
                        "databaseIndex": str(spec.redis_database),
                    },
                    "authenticationRef": {
                        "name": spec.scaler_secret_name,
                        "kind": "ClusterTriggerAuthentication",
                    },
                }
            ],
        },
    }
