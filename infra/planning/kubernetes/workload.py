"""The app on Kubernetes as plain manifests (camelCase, exactly what the API server receives): namespace, service
account, settings Secret, Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget and the
TargetGroupBinding. The components hand these to pulumi-kubernetes; the tests validate them against the
OpenAPI schema of the cluster's version.

Values known only at deploy time (the image's repository, the target group's ARN, the settings) arrive as
`pulumi.Input`s and are placed as they are: the structure, every policy-relevant field, is plain data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi

from infra.capacity.kubernetes_fleet import POD_CPU_LIMIT_FACTOR, ROLLING_MAX_SURGE_PERCENT
from infra.capacity.kubernetes_nodes import Resources
from infra.planning.compute.health_check import APP_PORT
from infra.planning.data.app_settings import CDN_KEY, SECRET_KEYS, settings_digest
from infra.planning.kubernetes.datadog import DatadogTracing, datadog_log_annotations, tracing_environment
from infra.planning.kubernetes.timing import (
    GUNICORN_GRACEFUL_TIMEOUT_SECONDS,
    HPA_CPU_UTILIZATION_PERCENT,
    HPA_SCALE_DOWN_STABILIZATION_SECONDS,
    LIVENESS_PROBE,
    MIN_READY_SECONDS,
    PRESTOP_SLEEP_SECONDS,
    READINESS_PROBE,
    STARTUP_PROBE,
    TERMINATION_GRACE_SECONDS,
    Probe,
)

APP_UID: Final = 10001
"""The image's numeric user (app/Dockerfile `USER 10001:10001`): runAsNonRoot can only verify a numeric one."""
CONTAINER_NAME: Final = "api"
PORT_NAME: Final = "http"
SERVICE_PORT: Final = 80
SETTINGS_CHECKSUM_ANNOTATION: Final = "contentry.io/settings-sha256"
READINESS_GATE_LABEL: Final = "elbv2.k8s.aws/pod-readiness-gate-inject"
TMP_SIZE_LIMIT: Final = "64Mi"
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@dataclass(frozen=True)
class AppWorkloadSpec:
    namespace: str
    name: str
    kubernetes_version: str
    image: pulumi.Input[str]
    release: str
    """APP_RELEASE in the container: the image tag or digest, so /api/health/detailed names the build."""
    region: str
    requests: Resources
    min_replicas: int
    max_replicas: int
    settings_secret_name: str
    settings_checksum: pulumi.Input[str]
    service_account_name: str
    extra_environment: Mapping[str, str] = field(default_factory=dict)
    """Non-secret settings beyond the fixed ones (for example MONGO_MAX_POOL_SIZE). They may not override a fixed
    variable or a key of the app's secret."""
    tracing: DatadogTracing | None = None
    """Datadog's DD_* variables, labels and log annotation (datadogEnabled); DATADOG_ENABLED=false without."""

    def __post_init__(self) -> None:
        if not 1 <= self.min_replicas <= self.max_replicas:
            raise ValueError(f"replicas min {self.min_replicas} <= max {self.max_replicas} is required")
        reserved = {*fixed_environment(self.region, self.release), *SECRET_KEYS, CDN_KEY}
        for name in self.extra_environment:
            if not _ENV_NAME.match(name):
                raise ValueError(f"'{name}' is not an environment variable name (A-Z, 0-9, _)")
            if name in reserved:
                raise ValueError(
                    f"'{name}' is set by the program or the app's secret; extra_environment cannot change it"
                )

    @property
    def labels(self) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": self.name,
            "app.kubernetes.io/part-of": "contentry",
            "app.kubernetes.io/managed-by": "pulumi",
        }

    @property
    def selector(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name}


def settings_checksum(document: str) -> str:
    """A digest of the app's settings: in the pod template, so a changed secret rolls the pods (the same digest
    the EC2 fleet's user data carries)."""
    return settings_digest(document)


def fixed_environment(region: str, release: str) -> dict[str, str]:
    """The container's non-secret variables; explicit `env` wins over the Secret's `envFrom`, so the secret cannot
    override them (as on EC2)."""
    return {
        "APP_ENV": "production",
        "AWS_REGION": region,
        "APP_RELEASE": release,
        "GUNICORN_BIND": f"0.0.0.0:{APP_PORT}",
        "GUNICORN_GRACEFUL_TIMEOUT": str(GUNICORN_GRACEFUL_TIMEOUT_SECONDS),
    }


def _metadata(spec: AppWorkloadSpec, name: str | None = None) -> dict[str, Any]:
    return {"name": name or spec.name, "namespace": spec.namespace, "labels": spec.labels}


def namespace(spec: AppWorkloadSpec) -> dict[str, Any]:
    """Pod Security Admission `restricted`, enforced (and audited and warned) at the cluster's version; pods get
    the load balancer controller's readiness gate, so a pod is Ready only once its target is healthy."""
    version = f"v{spec.kubernetes_version}"
    labels = {"app.kubernetes.io/part-of": "contentry", READINESS_GATE_LABEL: "enabled"}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = "restricted"
        labels[f"pod-security.kubernetes.io/{mode}-version"] = version
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": spec.namespace, "labels": labels}}


def restricted_namespace(name: str, kubernetes_version: str) -> dict[str, Any]:
    """A namespace other than the app's whose pods must meet Pod Security `restricted` too (KEDA's)."""
    labels = {"app.kubernetes.io/part-of": "contentry"}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = "restricted"
        labels[f"pod-security.kubernetes.io/{mode}-version"] = f"v{kubernetes_version}"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def service_account(spec: AppWorkloadSpec) -> dict[str, Any]:
    # The app never calls the Kubernetes API: no token is mounted. EKS Pod Identity injects its own token.
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(spec, spec.service_account_name),
        "automountServiceAccountToken": False,
    }


def settings_secret(spec: AppWorkloadSpec, values: pulumi.Input[Mapping[str, str]]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(spec, spec.settings_secret_name),
        "type": "Opaque",
        "stringData": values,
    }


def _probe(probe: Probe) -> dict[str, Any]:
    return {
        "httpGet": {"path": probe.path, "port": PORT_NAME, "scheme": "HTTP"},
        "initialDelaySeconds": probe.initial_delay_seconds,
        "periodSeconds": probe.period_seconds,
        "timeoutSeconds": probe.timeout_seconds,
        "failureThreshold": probe.failure_threshold,
        "successThreshold": probe.success_threshold,
    }


def _environment(spec: AppWorkloadSpec) -> list[dict[str, Any]]:
    values = {**fixed_environment(spec.region, spec.release), **spec.extra_environment}
    listed: list[dict[str, Any]] = [{"name": name, "value": value} for name, value in sorted(values.items())]
    return listed + tracing_environment(spec.tracing)


RUNTIME_DEFAULT_SECCOMP: Final = {"type": "RuntimeDefault"}


def pod_security_context() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": APP_UID,
        "runAsGroup": APP_UID,
        "seccompProfile": RUNTIME_DEFAULT_SECCOMP,
    }


def container_security_context() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": APP_UID,
        "runAsGroup": APP_UID,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": RUNTIME_DEFAULT_SECCOMP,
    }


def _resources(requests: Resources) -> dict[str, Any]:
    cpu, memory = f"{requests.cpu_millicores}m", f"{requests.memory_mib}Mi"
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": f"{requests.cpu_millicores * POD_CPU_LIMIT_FACTOR}m", "memory": memory},
    }


def deployment(spec: AppWorkloadSpec) -> dict[str, Any]:
    """No `replicas`: the HorizontalPodAutoscaler owns it, and a declared count would fight it at every update
    (server-side apply conflicts on .spec.replicas, pulumi/pulumi-kubernetes#2491)."""
    container = {
        "name": CONTAINER_NAME,
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        # The image's own command: gunicorn with app/gunicorn.conf.py (worker tmp dir /dev/shm, a tmpfs).
        "ports": [{"name": PORT_NAME, "containerPort": APP_PORT, "protocol": "TCP"}],
        "envFrom": [{"secretRef": {"name": spec.settings_secret_name}}],
        "env": _environment(spec),
        "resources": _resources(spec.requests),
        "startupProbe": _probe(STARTUP_PROBE),
        "livenessProbe": _probe(LIVENESS_PROBE),
        "readinessProbe": _probe(READINESS_PROBE),
        "lifecycle": {"preStop": {"sleep": {"seconds": PRESTOP_SLEEP_SECONDS}}},
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - a private emptyDir, not the host's
    }
    zone_spread = {
        "maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": spec.selector},
        # Spread each ReplicaSet on its own: during a rollout the old pods must not skew the new ones (KEP-3243).
        "matchLabelKeys": ["pod-template-hash"],
    }
    node_spread = {**zone_spread, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(spec),
        "spec": {
            "selector": {"matchLabels": spec.selector},
            "revisionHistoryLimit": 10,
            "minReadySeconds": MIN_READY_SECONDS,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": f"{ROLLING_MAX_SURGE_PERCENT}%"},
            },
            "template": {
                "metadata": {
                    "labels": {**spec.labels, **(spec.tracing.labels if spec.tracing else {})},
                    "annotations": {
                        SETTINGS_CHECKSUM_ANNOTATION: spec.settings_checksum,
                        **datadog_log_annotations(CONTAINER_NAME, spec.tracing),
                    },
                },
                "spec": {
                    "serviceAccountName": spec.service_account_name,
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security_context(),
                    "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
                    "topologySpreadConstraints": [zone_spread, node_spread],
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": TMP_SIZE_LIMIT}}],
                },
            },
        },
    }


def service(spec: AppWorkloadSpec) -> dict[str, Any]:
    """A ClusterIP Service: its endpoints are what the TargetGroupBinding registers (no load balancer of its own)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(spec),
        "spec": {
            "type": "ClusterIP",
            "selector": spec.selector,
            "ports": [{"name": PORT_NAME, "port": SERVICE_PORT, "targetPort": PORT_NAME, "protocol": "TCP"}],
        },
    }


def horizontal_pod_autoscaler(spec: AppWorkloadSpec) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(spec),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.name},
            "minReplicas": spec.min_replicas,
            "maxReplicas": spec.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": HPA_CPU_UTILIZATION_PERCENT},
                    },
                }
            ],
            "behavior": {
                "scaleUp": {
                    "stabilizationWindowSeconds": 0,
                    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 60}],
                },
                "scaleDown": {
                    "stabilizationWindowSeconds": HPA_SCALE_DOWN_STABILIZATION_SECONDS,
                    "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}],
                },
            },
        },
    }


def pod_disruption_budget(spec: AppWorkloadSpec) -> dict[str, Any]:
    """One pod at a time may be evicted (node drains, autoscaler scale-in); a pod that is not Ready may always be
    evicted, so a crash-looping pod never blocks a node update past EKS's 15-minute drain limit."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(spec),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": spec.selector},
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }


def target_group_binding(spec: AppWorkloadSpec, target_group_arn: pulumi.Input[str]) -> dict[str, Any]:
    """The load balancer controller registers the Service's pod IPs into the target group Pulumi owns. No
    `networking` block: the security group rule from the ALB to the pods is Pulumi's too."""
    return {
        "apiVersion": "elbv2.k8s.aws/v1beta1",
        "kind": "TargetGroupBinding",
        "metadata": _metadata(spec),
        "spec": {
            "serviceRef": {"name": spec.name, "port": SERVICE_PORT},
            "targetGroupARN": target_group_arn,
            "targetType": "ip",
        },
    }
