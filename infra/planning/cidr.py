"""The VPC's subnet layout, as a pure function.

Three subnet tiers per AZ: public (load balancer, NAT gateways), private (the app: instances or EKS nodes, the
largest, since EKS gives every pod a VPC address) and isolated (data: ElastiCache, no route to the internet).
Blocks are carved largest first so every block stays aligned, and the layout for N AZs is a prefix of the
layout for N+1: adding an AZ later never moves an existing subnet.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network
from itertools import islice


class SubnetTier(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    ISOLATED = "isolated"


# How many bits each tier's subnets are smaller than the VPC. With a /16: private /19 (8,190 addresses),
# public and isolated /22 (1,022). Six AZs of private /19 fill 6/8 of the VPC; public and isolated share the rest.
PREFIX_DELTA = {SubnetTier.PRIVATE: 3, SubnetTier.PUBLIC: 6, SubnetTier.ISOLATED: 6}
MAX_AZS = 6
MIN_PUBLIC_PREFIX = 27
# AWS gives a VPC an IPv6 /56 and takes only /64 subnets: 256 slots, of which public subnet i uses slot i.
VPC_IPV6_PREFIX = 56
SUBNET_IPV6_PREFIX = 64


@dataclass(frozen=True)
class PlannedSubnet:
    tier: SubnetTier
    az_index: int
    cidr: IPv4Network


class CidrPlanError(ValueError):
    """A VPC range or AZ count the subnet layout cannot serve."""


def plan_subnets(vpc_cidr: IPv4Network, az_count: int) -> list[PlannedSubnet]:
    """Subnets for `az_count` AZs, in the order private (all AZs), public, isolated."""
    if not 1 <= az_count <= MAX_AZS:
        raise CidrPlanError(f"az_count must be 1 to {MAX_AZS}, got {az_count}")
    # Reserve every slot for MAX_AZS, then hand out the first az_count: stable as AZs are added.
    private = _slots(vpc_cidr, PREFIX_DELTA[SubnetTier.PRIVATE])[:MAX_AZS]
    rest = _slots(vpc_cidr, PREFIX_DELTA[SubnetTier.PRIVATE])[MAX_AZS:]
    small: list[IPv4Network] = []
    delta = PREFIX_DELTA[SubnetTier.PUBLIC] - PREFIX_DELTA[SubnetTier.PRIVATE]
    for block in rest:
        small.extend(block.subnets(prefixlen_diff=delta))
    public, isolated = small[:MAX_AZS], small[MAX_AZS : 2 * MAX_AZS]
    if len(isolated) < MAX_AZS:
        raise CidrPlanError(f"{vpc_cidr} is too small for {MAX_AZS} AZs of three subnet tiers")
    plan = [PlannedSubnet(SubnetTier.PRIVATE, i, private[i]) for i in range(az_count)]
    plan += [PlannedSubnet(SubnetTier.PUBLIC, i, public[i]) for i in range(az_count)]
    plan += [PlannedSubnet(SubnetTier.ISOLATED, i, isolated[i]) for i in range(az_count)]
    return plan


def public_ipv6_subnet(vpc_ipv6_cidr: str, az_index: int) -> str:
    """The /64 of the public subnet in AZ `az_index`, carved from the VPC's Amazon-provided /56.

    Only the public tier is dual-stack: the ALB takes IPv6 clients there; the app and data tiers stay IPv4 behind it.
    """
    vpc = IPv6Network(vpc_ipv6_cidr)
    if vpc.prefixlen != VPC_IPV6_PREFIX:
        raise CidrPlanError(f"expected the VPC's IPv6 block to be a /{VPC_IPV6_PREFIX}, got {vpc}")
    if not 0 <= az_index < MAX_AZS:
        raise CidrPlanError(f"az_index must be 0 to {MAX_AZS - 1}, got {az_index}")
    # The /56 holds 256 /64s; walk only as far as needed.
    return str(next(islice(vpc.subnets(new_prefix=SUBNET_IPV6_PREFIX), az_index, None)))


def _slots(vpc_cidr: IPv4Network, delta: int) -> list[IPv4Network]:
    # An ALB needs subnets of /27 or larger (eight free addresses each).
    if vpc_cidr.prefixlen + PREFIX_DELTA[SubnetTier.PUBLIC] > MIN_PUBLIC_PREFIX:
        raise CidrPlanError(f"{vpc_cidr} is too small: public subnets would be smaller than /{MIN_PUBLIC_PREFIX}")
    return list(vpc_cidr.subnets(prefixlen_diff=delta))
