"""How the worker fleet follows its queue: the metric math of its target tracking and of its rollout's alarm.

Target tracking needs a metric that falls as capacity grows: the queue's depth divided by the workers in service
is one (AWS's "scaling based on Amazon SQS" pattern, with the broker's list in place of the SQS queue). The
exporter publishes QueueDepth every minute from every host; several publishers of the one global value agree, so
the Maximum over the minute is that value. Without datapoints (the exporter silent) the policy has no data and
leaves the fleet alone; the queue alarms (infra/planning/operations/job_alarms.py) page for that silence.
"""

from __future__ import annotations

import math
from typing import Final

from infra.planning.compute.health_check import HEALTH_CHECK_GRACE_PERIOD_SECONDS

QUEUE_DEPTH_ID: Final = "queue_depth"
IN_SERVICE_ID: Final = "in_service"
PER_WORKER_ID: Final = "per_worker"
QUEUE_DEPTH_PER_WORKER_EXPRESSION: Final = f"{QUEUE_DEPTH_ID} / {IN_SERVICE_ID}"
"""Waiting jobs per worker host in service. The group's minimum is at least 1, so the divisor is never 0 once an
instance is in service."""
METRIC_PERIOD_SECONDS: Final = 60

WORKER_CAPACITY_MINUTES: Final = math.ceil(HEALTH_CHECK_GRACE_PERIOD_SECONDS / 60) + 2
"""Fewer workers in service than desired for longer than a boot within the grace period: a release whose worker
never answers its ping is replaced again and again; this alarm rolls its refresh back (and pages)."""
WORKER_CAPACITY_EXPRESSION: Final = "FILL(desired, 0) - FILL(in_service, 0)"
