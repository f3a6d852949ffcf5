"""The golden PR cost comment: a hand-made base and head whose differences cover every case the comment
shows (a resource added, one removed, one changed, an unpriced item, a budget breach, a new stack), rendered by
infra.ci.cost_comment. `python -m tests.ci.goldens --write` rewrites tests/ci/golden/ after a deliberate change
to the comment's format; tests/ci/test_cost_comment.py fails until it matches.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path

from infra.ci.cost_comment import CostComment, StackChange, render_markdown
from infra.cost.model import Category, Estimate, Kind, Line, Unpriced

GOLDEN = Path(__file__).resolve().parent / "golden" / "cost-comment.md"
ASG = "aws:autoscaling/group:Group"
ALB = "aws:lb/loadBalancer:LoadBalancer"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
NAT = "aws:ec2/natGateway:NatGateway"
EKS = "aws:eks/cluster:Cluster"


def line(resource: str, type_token: str, monthly: str, component: str = "hours") -> Line:
    return Line(
        resource=resource,
        type=type_token,
        component=component,
        quantity=Decimal(730),
        unit="hours",
        unit_price=Decimal(monthly) / 730,
        kind=Kind.BASELINE,
        category=Category.COMPUTE,
        source="test",
        source_url="https://example.com/prices",
        source_date="2026-01-01",
    )


def estimate(
    stack: str, tier: str, lines: list[Line], unpriced: tuple[Unpriced, ...] = (), budget: str | None = None
) -> Estimate:
    return Estimate(
        stack=stack,
        tier=tier,
        currency="USD",
        lines=tuple(lines),
        unpriced=unpriced,
        free=(),
        warnings=(),
        budget=None if budget is None else Decimal(budget),
        price_table_version="2026-11-26",
    )


BACKUP = Unpriced(
    "database-cluster", "mongodbatlas:index/advancedCluster:AdvancedCluster", "backup storage", Kind.USAGE
)
EKS_GAP = Unpriced("eks-cluster", EKS, "no price for the EKS control plane in the table", Kind.BASELINE)


def golden_comment() -> CostComment:
    dev_before = estimate(
        "dev",
        "C",
        [line("app-fleet-asg", ASG, "100"), line("cache-redis", CACHE, "18.89"), line("network-nat-0", NAT, "33.95")],
        (BACKUP,),
        budget="300",
    )
    dev_after = estimate(
        "dev",
        "C",
        [
            line("app-fleet-asg", ASG, "150"),
            line("load-balancer-alb", ALB, "33.58"),
            line("network-nat-0", NAT, "33.95"),
        ],
        (BACKUP,),
        budget="300",
    )
    prod_before = estimate("prod", "A", [line("app-fleet-asg", ASG, "900")], budget="1000")
    prod_after = estimate("prod", "A", [line("app-fleet-asg", ASG, "1200")], budget="1000")
    eks_after = estimate("eks", "B", [line("load-balancer-alb", ALB, "33.58")], (EKS_GAP,), budget="1500")
    staging_before = estimate("staging", "C", [line("network-nat-0", NAT, "33.95")], budget="300")
    return CostComment(
        stacks=(
            StackChange("dev", dev_before, dev_after),
            StackChange("eks", None, eks_after),
            StackChange("prod", prod_before, prod_after),
            StackChange("staging", staging_before, None),
        ),
        base_label="1111111",
        head_label="2222222",
    )


def generated() -> str:
    return render_markdown(golden_comment())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.ci.goldens", description=__doc__)
    parser.add_argument("--write", action="store_true", required=True, help="rewrite tests/ci/golden/")
    parser.parse_args(argv)
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(generated(), encoding="utf-8")
    print(f"wrote {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
