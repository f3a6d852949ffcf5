"""The offline plans the infrastructure tests read: each tier and environment, each built once per session."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from infra.plan.document import Plan, build_plan

REPO_ROOT = Path(__file__).resolve().parents[2]

# The shapes every infra test runs against: each tier, and both environments.
STACKS = {
    "dev": ("dev", ()),
    "prod": ("prod", ()),
    "dev-tier-B": ("dev", ("tier=B",)),
    "prod-tier-B": ("prod", ("tier=B",)),
    # Tier C's presets are development's (a NAT instance, a week of logs): production overrides them.
    "prod-tier-C": (
        "prod",
        ("tier=C", "natStrategy=one-per-az", "azCount=3", "cacheReplicas=1", "logRetentionDays=365", "workerMinSize=2"),
    ),
}


@cache
def plan_of(stack: str, overrides: tuple[str, ...] = ()) -> Plan:
    """The plan of `stack` with `overrides`; cached because the mock run costs a second or two."""
    return build_plan(stack, overrides, REPO_ROOT)
