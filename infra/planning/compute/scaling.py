"""Target-tracking and rolling-deploy settings of the app fleet: pure, so the numbers are tested directly."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

from infra.capacity.ec2_fleet import DEPLOY_MAX_HEALTHY_PERCENT
from infra.capacity.throughput import REQUESTS_PER_VCPU_SECOND
from infra.planning.compute.health_check import HEALTH_CHECK_GRACE_PERIOD_SECONDS

CPU_TARGET_PERCENT: Final = 50.0
"""Compute-optimized instances: half busy leaves room for a spike while new instances boot (~3 min)."""
BURSTABLE_CPU_TARGET_PERCENT: Final = 40.0
"""Burstable (t3/t4g) instances earn CPU credits only below their baseline (30% for a t4g.large): tracking a
lower average scales out before the fleet lives on surplus credits, which are billed."""

REQUESTS_PER_VCPU_PER_SECOND: Final = int(REQUESTS_PER_VCPU_SECOND * int(CPU_TARGET_PERCENT) / 100)
"""Requests per second one vCPU carries at the CPU target: the measured throughput (infra/capacity/throughput.py,
requests per app CPU-second of the traffic model's mix) at CPU_TARGET_PERCENT. Request tracking then scales out at
the load CPU tracking would, and also when CPU reads low because requests wait on I/O, before latency grows."""

REFRESH_MIN_HEALTHY_PERCENT: Final = 100
"""A rolling deploy never drops below the full desired capacity (the issue asks for at least 90%): each batch
of new instances is launched and healthy before old ones go."""
REFRESH_MAX_HEALTHY_PERCENT: Final = DEPLOY_MAX_HEALTHY_PERCENT
"""How far above desired capacity a deploy may run: half the fleet at a time, briefly at 1.5x the cost (and the
MongoDB connections: the connection budget counts this surge, hence the value lives with it)."""
REFRESH_CHECKPOINTS: Final = (50, 100)
"""Pause once half the fleet runs the new version, so the deploy alarms can see it serve real traffic. The list
must end at 100 (the last value is how much of the fleet the refresh replaces), and AWS sends no event and
allows no pause-and-rollback window after that last checkpoint: the bake time below watches the second half."""

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

DEPLOY_CAPACITY_MINUTES: Final = math.ceil(HEALTH_CHECK_GRACE_PERIOD_SECONDS / 60)
"""Consecutive minutes with fewer healthy targets than the group's desired capacity that fail a deploy. A
release whose container never starts answers no 5xx (the old instances keep serving): only the healthy count
shows it, once the refresh has replaced old instances with new ones that never pass the health check. The
window is the health check grace period, the project's bound on a healthy boot (about 3 minutes, with room
for a slow pull): every scale-out has its new instances unhealthy while they boot, and must not trip it."""
# The alarm's metric math: `healthy` is the target group's HealthyHostCount (its best in the minute), `desired`
# the group's GroupDesiredCapacity (its least in the minute, so a scale-out's new, booting instances are not yet
# counted against it). During a refresh the group runs above desired (MaxHealthyPercentage), so old and new
# healthy targets together must cover desired; a missing healthy datapoint counts as none healthy.
DEPLOY_CAPACITY_EXPRESSION: Final = "FILL(desired, 0) - FILL(healthy, 0)"
"""How many healthy targets the fleet is short of its desired capacity (negative while a deploy runs above it)."""

ALARM_DECISION_LAG_SECONDS: Final = 120
"""From the end of an alarm's window to its decision: CloudWatch receives a load balancer or Auto Scaling
datapoint up to a minute after its period, and evaluates alarms once a minute."""
DEPLOY_ALARM_WINDOW_SECONDS: Final = max(DEPLOY_ALARM_PERIODS, DEPLOY_CAPACITY_MINUTES) * 60
"""The longest evaluation window of the alarms a refresh watches."""
REFRESH_CHECKPOINT_DELAY_SECONDS: Final = DEPLOY_ALARM_WINDOW_SECONDS + ALARM_DECISION_LAG_SECONDS
"""The pause at half the fleet: long enough for either alarm to decide on the new instances serving traffic."""
REFRESH_BAKE_TIME_SECONDS: Final = DEPLOY_ALARM_WINDOW_SECONDS + ALARM_DECISION_LAG_SECONDS
"""After the last instance is replaced, the refresh stays Baking this long with the alarms still armed and
rollback still possible: the second half of the fleet is watched as the first was."""

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
