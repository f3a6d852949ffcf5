"""What one Application Load Balancer capacity unit (LCU) covers, per dimension; AWS bills, each hour, the
dimension that needs the most LCUs.

Source: Elastic Load Balancing pricing, "Application Load Balancer" / "LCU details" (read 2026-12-01):
https://aws.amazon.com/elasticloadbalancing/pricing/ : an LCU is 25 new connections per second, 3,000 active
connections per minute, 1 GB an hour processed for EC2 instances and IP addresses as targets (0.4 GB for Lambda),
1,000 rule evaluations per second, the first 10 rules of a request being free. The hourly and per-LCU prices are
in infra/cost/prices.yaml.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

ALB_LCU_SOURCE: Final = "https://aws.amazon.com/elasticloadbalancing/pricing/ (LCU details; read 2026-12-01)"
NEW_CONNECTIONS_PER_SECOND_PER_LCU: Final = Decimal(25)
ACTIVE_CONNECTIONS_PER_LCU: Final = Decimal(3000)
PROCESSED_GB_PER_HOUR_PER_LCU: Final = Decimal(1)
"""For EC2 instances and IP targets (tier B registers pod IPs): both 1 GB."""
RULE_EVALUATIONS_PER_SECOND_PER_LCU: Final = Decimal(1000)
FREE_RULE_EVALUATIONS_PER_REQUEST: Final = Decimal(10)
