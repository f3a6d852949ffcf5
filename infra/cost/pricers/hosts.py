"""What runs on a plan's hosts, read from the plan itself: the EC2 groups whose launch template boots a given
container or command, and tier B's nodes. The plan-level pricers (the job metrics, Datadog) count publishers and
agents from what the plan really starts, so a stack prices what it deploys, not what its config says."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass

from infra.cost.pricers.compute import find_launch_template
from infra.cost.pricing import PricingContext, Resource, integer

AUTO_SCALING_GROUP = "aws:autoscaling/group:Group"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


@dataclass(frozen=True)
class Hosts:
    """`count` hosts of the group named `group` (its desired capacity, as the instances are priced)."""

    group: str
    count: int


def boot_text(template: Resource) -> str:
    """The launch template's user data as the instance reads it (the plan holds it base64-encoded)."""
    encoded = template.get("userData")
    if not isinstance(encoded, str) or not encoded:
        return ""
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return encoded  # already plain text (a hand-written plan)


def group_hosts(group: Resource) -> int:
    """AWS starts a group at its desired capacity, or at its minimum when none is set (as the instances' pricer)."""
    return integer(group.get("desiredCapacity"), integer(group.get("minSize")))


def ec2_hosts_booting(context: PricingContext, marker: str) -> list[Hosts]:
    """The Auto Scaling groups whose instances' boot data contains `marker` (a command or an image)."""
    found = []
    for group in context.plan.of_type(AUTO_SCALING_GROUP):
        mixed = group.get("mixedInstancesPolicy", "launchTemplate", default={})
        spec = group.get("launchTemplate") or (mixed.get("launchTemplateSpecification") if mixed else None) or {}
        if not isinstance(spec, Mapping):
            continue
        template = find_launch_template(spec, group, context)
        if template is not None and marker in boot_text(template):
            found.append(Hosts(group.name, group_hosts(group)))
    return found


def eks_nodes(context: PricingContext) -> list[Hosts]:
    """Tier B's managed node groups at their desired size: a DaemonSet runs on each node."""
    return [
        Hosts(
            group.name,
            integer(group.get("scalingConfig", "desiredSize"), integer(group.get("scalingConfig", "minSize"))),
        )
        for group in context.plan.of_type(NODE_GROUP)
    ]
