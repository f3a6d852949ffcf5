"""The app fleet's timing: health checks, draining, warm-up. Every number with the reason it has that value.

The target group checks `/api/health`, which does no I/O at all: a slow database must never fail every target
at once, or ELB health checks would have the Auto Scaling group terminate a healthy fleet (the trap in
`shared/facts/security-checks.md`). Readiness (`/api/health/ready`) is for deploy gates and Kubernetes.
"""

from __future__ import annotations

from typing import Final

APP_PORT: Final = 8000
"""What gunicorn binds in the container (app/gunicorn.conf.py) and what the instance publishes."""

HEALTH_CHECK_PATH: Final = "/api/health"
HEALTH_CHECK_MATCHER: Final = "200"

HEALTH_CHECK_INTERVAL_SECONDS: Final = 10
"""Often enough to notice a dead instance within half a minute; the endpoint is free, so the ALB's ~3 probes
per interval per AZ node cost nothing."""
HEALTH_CHECK_TIMEOUT_SECONDS: Final = 5
"""The endpoint answers in milliseconds; 5 s only tolerates a GC pause or a busy event loop, and stays
below the interval as the ALB requires."""
HEALTHY_THRESHOLD: Final = 2
"""A new instance takes traffic after 2 good answers (20 s), not the default 5 (50 s+): faster deploys."""
UNHEALTHY_THRESHOLD: Final = 3
"""Out of rotation after 3 failures (30 s): one slow probe never drops a target."""

DEREGISTRATION_DELAY_SECONDS: Final = 30
"""Draining on scale-in and deploy. API requests are bounded by seconds (MongoDB query timeout 2 s), so 30 s
finishes every in-flight request; the default 300 s would add minutes to every rolling deploy."""
SLOW_START_SECONDS: Final = 60
"""A new target's share of requests ramps up over a minute while its connection pools and caches warm."""

BOOT_SECONDS_ESTIMATE: Final = 180
"""Launch to serving: EC2 boot, Docker and the CloudWatch agent installed, the image pulled, gunicorn up."""
HEALTH_CHECK_GRACE_PERIOD_SECONDS: Final = 300
"""The Auto Scaling group ignores ELB health this long after launch: a booting instance is not replaced for
being slow to boot. It exceeds the boot estimate plus the healthy threshold with room for a slow pull."""
INSTANCE_WARMUP_SECONDS: Final = 240
"""Scaling ignores a new instance's metrics, and instance refresh waits, this long after it is in service."""
STOP_TIMEOUT_SECONDS: Final = 40
"""docker stop grace: gunicorn's graceful timeout (30 s) plus margin, after the ALB has drained the target."""

ALB_IDLE_TIMEOUT_SECONDS: Final = 60
"""The ALB's idle connection timeout. gunicorn's keep-alive (75 s, app/gunicorn.conf.py) is longer on purpose:
the app must never close a connection the ALB is about to reuse (that would be a 502)."""
