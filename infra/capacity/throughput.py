"""The app's measured throughput: what one vCPU serves of the traffic model's endpoint mix, fully busy, within the
production goal (p95 < 200 ms, no error). The sizing plans for 70% of it (infra/capacity/sizing.py); the request
target tracking derives its target from it (infra/planning/compute/scaling.py).

Measured by `python -m bench.compare --modes capacity` (bench/capacity.py) against the real server (gunicorn, two
uvicorn workers, the app's own config), Redis and the MongoDB wire-protocol test server on one machine; the
committed reference is bench/results/capacity.json (tests/infra/capacity/test_throughput.py ties this figure to it).

What it is not: the machine was a 2-vCPU x86 VM (AMD EPYC under KVM) shared with other work (22-24% of a core
during the steps; load average 1.80 at the start, 3.43 at the end with the run's own processes), and the load
generator shared its cores (23-26% of a core); the production fleet is Graviton (arm64), where one vCPU is a
physical core. The figure counts only the app's own CPU per request (requests per app CPU-second), which depends
little on the rate the machine allowed: an earlier run the same day, with other tenants using 66-92% of a core,
gave 1,457.3 (CROSS_CHECK). The test database's CPU, far higher than mongod's on Atlas, is reported apart and not
counted. Rerun the command on a quiet machine, and against a dev stack (`python -m bench.load --allow-remote`),
before trusting the last 20%.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

REQUESTS_PER_VCPU_SECOND: Final = Decimal("1409.6")
"""Tier A's mix: the median over the closed-loop steps within the goal (2 to 32 users: 1,136 to 1,497) of the
requests per app CPU-second. Each endpoint class alone: cached read 460 us of app CPU, database read 1,086 us,
write (down the database-read path) 1,118 us, upload presign 1,250 us; the test database spent another 609 us a
request of the mix, which on AWS runs on Atlas's nodes, not the app's."""
MEASURED_ON: Final = "2026-12-01"
COMMAND: Final = "python -m bench.compare --modes capacity"
REFERENCE: Final = "bench/results/capacity.json"
CROSS_CHECK: Final = (
    "an earlier run the same day (00:46 UTC), with other tenants using 66-92% of a core and a load average of 4.65"
    " to 10.13, gave 1,457.3: 3% apart"
)
