"""What each tier must pay for whatever its plan contains today: its compute and the load balancer in front of it.

A plan can lack a resource its tier needs (a saved plan from before tier B's EKS compute was built, or a
program change that drops one). Pricing only what the plan holds would then print a total far below what the
tier costs and pass any budget. So the estimator checks each
need against the plan and reports a missing one as an unpriced baseline item: the total is then a lower bound,
the budget cannot be checked, and the CLI, the golden files and the finance report say so alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from infra.cost.model import Category, Kind, Unpriced
from infra.cost.pricing import PlanView

MISSING_PREFIX = "(not in the plan) "


@dataclass(frozen=True)
class Need:
    what: str
    category: Category
    types: tuple[str, ...]
    """Any resource of one of these types in the plan meets the need."""
    why: str

    def unpriced(self, tier: str) -> Unpriced:
        return Unpriced(
            resource=f"{MISSING_PREFIX}{self.what}",
            type=self.types[0],
            reason=f"tier {tier} needs {self.what} ({self.why}); the plan has none ({' or '.join(self.types)}), "
            "so its cost is unknown and not in the total",
            kind=Kind.BASELINE,
            category=self.category,
        )


_LOAD_BALANCER_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
_EC2_FLEET = Need(
    "an EC2 fleet",
    Category.COMPUTE,
    ("aws:autoscaling/group:Group", "aws:ec2/instance:Instance"),
    "the app's servers",
)
_LOAD_BALANCER = Need(
    "a load balancer", Category.LOAD_BALANCER, _LOAD_BALANCER_TYPES, "the ALB in front of the app, across AZs"
)
_EKS = (
    Need("an EKS control plane", Category.COMPUTE, ("aws:eks/cluster:Cluster",), "the cluster the app runs on"),
    Need(
        "an EKS node group",
        Category.COMPUTE,
        ("aws:eks/nodeGroup:NodeGroup", "aws:autoscaling/group:Group"),
        "the nodes the app's pods run on",
    ),
    Need(
        "a load balancer",
        Category.LOAD_BALANCER,
        _LOAD_BALANCER_TYPES,
        "the ALB with a health-checked target group in front of the pods",
    ),
)

# From ARCHITECTURE.md's tier table.
TIER_NEEDS: Mapping[str, tuple[Need, ...]] = MappingProxyType(
    {"A": (_EC2_FLEET, _LOAD_BALANCER), "B": _EKS, "C": (_EC2_FLEET, _LOAD_BALANCER)}
)


def missing_needs(tier: str, plan: PlanView) -> list[Unpriced]:
    """An unpriced baseline item for each need of `tier` that no resource of the plan meets."""
    present = {resource.type for resource in plan.resources}
    return [need.unpriced(tier) for need in TIER_NEEDS.get(tier, ()) if not present & set(need.types)]
