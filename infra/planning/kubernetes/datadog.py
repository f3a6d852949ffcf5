"""Datadog on the app's and the workers' pods, only with datadogEnabled: the contract's DD_* variables, the
unified service tags and the log annotation the Agent reads. Pure data; the Agent itself is
infra/components/kubernetes/datadog_agent.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

API_SERVICE = "contentry-api"
WORKER_SERVICE = "contentry-worker"


@dataclass(frozen=True)
class DatadogTracing:
    """The contract's DD_* variables for one process (service), only when datadogEnabled."""

    service: str
    env: str
    version: str

    @property
    def labels(self) -> dict[str, str]:
        """Datadog's unified service tags on the pod: the Agent tags the pod's logs and metrics with them."""
        return {
            "tags.datadoghq.com/env": self.env,
            "tags.datadoghq.com/service": self.service,
            "tags.datadoghq.com/version": self.version,
        }


def tracing_environment(tracing: DatadogTracing | None) -> list[dict[str, Any]]:
    """DATADOG_ENABLED always; the rest only when enabled. The Agent listens on its node's port 8126 (a hostPort
    of the DaemonSet), so the pod sends to its node's IP from the downward API: no hostPath socket, which Pod
    Security `restricted` forbids."""
    if tracing is None:
        return [{"name": "DATADOG_ENABLED", "value": "false"}]
    return [
        {"name": "DATADOG_ENABLED", "value": "true"},
        {"name": "DD_AGENT_HOST", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.hostIP"}}},
        {"name": "DD_ENV", "value": tracing.env},
        {"name": "DD_LOGS_INJECTION", "value": "true"},
        {"name": "DD_SERVICE", "value": tracing.service},
        {"name": "DD_VERSION", "value": tracing.version},
    ]


def datadog_log_annotations(container: str, tracing: DatadogTracing | None) -> dict[str, str]:
    """The Agent collects only annotated containers' logs (containerCollectAll is off): the app's and the
    workers', tagged like their traces so they correlate, and nothing of the cluster's own pods."""
    if tracing is None:
        return {}
    return {f"ad.datadoghq.com/{container}.logs": f'[{{"source":"python","service":"{tracing.service}"}}]'}
