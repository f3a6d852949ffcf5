"""Target-tracking and rolling-deploy settings of the app fleet: pure, so the numbers are tested directly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from infra.capacity.ec2_fleet import DEPLOY_MAX_HEALTHY_PERCENT

CPU_TARGET_PERCENT: Final = 50.0
"""Compute-optimized instances: half busy leaves room for a spike while new instances boot (~3 min)."""
BURSTABLE_CPU_TARGET_PERCENT: Final = 40.0
"""Burstable (t3/t4g) instances earn CPU credits only below their baseline (30% for a t4g.large): tracking a
lower average scales out before the fleet lives on surplus credits, which are billed."""

REQUESTS_PER_VCPU_PER_SECOND: Final = 100
"""Requests per second one vCPU should carry at the target: about half of what one uvicorn worker served in
the benchmark (app/README.md) on a mixed read workload, so request tracking scales an I/O-bound fleet out
before its latency grows, even when CPU stays low."""

REFRESH_MIN_HEALTHY_PERCENT: Final = 100
"""A rolling deploy never drops below the full desired capacity (the issue asks for at least 90%): each batch
of new instances is launched and healthy before old ones go."""
REFRESH_MAX_HEALTHY_PERCENT: Final = DEPLOY_MAX_HEALTHY_PERCENT
"""How far above desired capacity a deploy may run: half the fleet at a time, briefly at 1.5x the cost (and the
MongoDB connections: the connection budget counts this surge, hence the value lives with it)."""
REFRESH_CHECKPOINTS: Final = (50, 100)
"""Pause once half the fleet runs the new version, so the deploy alarm can see it serve real traffic."""
REFRESH_CHECKPOINT_DELAY_SECONDS: Final = 300

DEPLOY_ALARM_ERROR_PERCENT: Final = 5.0
"""More than this share of 5xx answers during a deploy fails it and rolls it back: the app's own 5xx and the
load balancer's (502 when a target drops the connection, 503 when no target is healthy)."""
DEPLOY_ALARM_PERIODS: Final = 3
"""Consecutive one-minute periods above the threshold: one bad minute is noise, three are a bad release."""
# The alarm's metric math over three one-minute ALB sums: `target_errors` (HTTPCode_Target_5XX_Count),
# `elb_errors` (HTTPCode_ELB_5XX_Count) and `requests` (RequestCount). ALB metrics have no datapoint in a minute
# without that event: FILL makes it a zero. A 503 for "no healthy target" never reached a target, so it is not
# in RequestCount: the denominator adds the load balancer's 5xx (its 502s are then counted twice there, which
# only lowers the rate a little).
_ANSWERED = "(FILL(requests, 0) + FILL(elb_errors, 0))"
DEPLOY_ERROR_RATE_EXPRESSION: Final = (
    f"IF({_ANSWERED} > 0, 100 * (FILL(target_errors, 0) + FILL(elb_errors, 0)) / {_ANSWERED}, 0)"
)
"""The share of requests (%) answered 5xx by the app or by the load balancer in front of it."""
DEPLOY_UNHEALTHY_MINUTES: Final = 10
"""Minutes with an unhealthy target in every one of them that fail a deploy. A release whose container never
starts answers no 5xx at all (the refresh keeps full capacity, so the old instances serve every request): only
its targets' health shows it. A healthy deploy has a batch unhealthy for about 3 minutes while it boots
(BOOT_SECONDS_ESTIMATE), and a replaced instance for under 5 (the grace period): 10 is neither."""

_BURSTABLE = re.compile(r"^t\d+[a-z]*\.")


def is_burstable(instance_type: str) -> bool:
    return _BURSTABLE.match(instance_type) is not None


def cpu_target_percent(instance_type: str) -> float:
    return BURSTABLE_CPU_TARGET_PERCENT if is_burstable(instance_type) else CPU_TARGET_PERCENT


def requests_per_target_per_minute(vcpus: int) -> float:
    """ALBRequestCountPerTarget is a one-minute sum, so the target is per minute."""
    if vcpus < 1:
        raise ValueError(f"{vcpus} vCPUs")
    return float(vcpus * REQUESTS_PER_VCPU_PER_SECOND * 60)


@dataclass(frozen=True)
class FleetSize:
    min_size: int
    desired_size: int
    max_size: int

    def __post_init__(self) -> None:
        if not 1 <= self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(f"fleet size min {self.min_size} <= desired {self.desired_size} <= max {self.max_size}")
