"""The app's pods on EKS: probes, draining and scaling numbers, each with the reason it has that value.

The target group's own health check (`/api/health`, no I/O) and its deregistration delay are tier A's
(infra/planning/compute/health_check.py); the pods add Kubernetes' probes around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from infra.planning.compute.health_check import (
    DEREGISTRATION_DELAY_SECONDS,
    HEALTH_CHECK_INTERVAL_SECONDS,
    UNHEALTHY_THRESHOLD,
)

LIVENESS_PATH: Final = "/api/health/live"
READINESS_PATH: Final = "/api/health/ready"


@dataclass(frozen=True)
class Probe:
    path: str
    period_seconds: int
    timeout_seconds: int
    failure_threshold: int
    success_threshold: int = 1
    initial_delay_seconds: int = 0

    @property
    def gives_up_after_seconds(self) -> int:
        """How long the probe must keep failing before Kubernetes acts on it."""
        return self.period_seconds * self.failure_threshold


STARTUP_PROBE: Final = Probe(LIVENESS_PATH, period_seconds=5, timeout_seconds=3, failure_threshold=24)
"""Up to two minutes to import the app and fork the workers (gunicorn preloads it) before liveness starts."""
LIVENESS_PROBE: Final = Probe(LIVENESS_PATH, period_seconds=10, timeout_seconds=5, failure_threshold=6)
"""A restart only after a full minute without an answer: a saturated event loop that answers late is busy, not
dead, and restarting it would drop its in-flight requests and pile its load onto the others."""
READINESS_PROBE: Final = Probe(
    READINESS_PATH,
    period_seconds=HEALTH_CHECK_INTERVAL_SECONDS,
    timeout_seconds=5,
    failure_threshold=UNHEALTHY_THRESHOLD,
)
"""Out of the Service (and so out of the target group) after as long as the ALB itself waits, 3 x 10 s. A busy
worker answers /ready late, not never: a short timeout or a single failure would take every busy pod out at
once, exactly when the load needs them. The app caches its readiness answer, so a probe storm is cheap."""

PRESTOP_SLEEP_SECONDS: Final = DEREGISTRATION_DELAY_SECONDS
"""A terminating pod keeps serving while the load balancer controller deregisters it and the ALB drains it
(the ALB sends new requests for a few seconds after deregistration, aws-load-balancer-controller#1064):
gunicorn gets SIGTERM only after the whole deregistration delay."""
GUNICORN_GRACEFUL_TIMEOUT_SECONDS: Final = 30
"""After SIGTERM gunicorn's workers get this long to finish (set in the pod's environment)."""
TERMINATION_GRACE_SECONDS: Final = PRESTOP_SLEEP_SECONDS + GUNICORN_GRACEFUL_TIMEOUT_SECONDS + 10
"""The preStop pause, then gunicorn's graceful shutdown, with 10 s to spare before SIGKILL."""

HPA_CPU_UTILIZATION_PERCENT: Final = 60
"""Of the pod's CPU request: room for a spike while a new pod (and perhaps a new node) starts."""
HPA_SCALE_DOWN_STABILIZATION_SECONDS: Final = 300
"""Scale in only after five minutes of lower load: no flapping with each burst."""
MIN_READY_SECONDS: Final = 10
"""A new pod must stay Ready this long (its target healthy, through the readiness gate) before the rollout
counts it and stops an old one."""
