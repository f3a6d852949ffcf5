"""Atlas cluster tiers: connection limits (for the 80% alert) and the private CIDR Atlas peers from.

Connection limits are per node, from https://www.mongodb.com/docs/atlas/reference/atlas-limits/ ("Connection
Limits and Cluster Tier", read 2026-11-25; M80 was 64,000 in older versions of the page, 96,000 now).
"""

from __future__ import annotations

from ipaddress import IPv4Network
from types import MappingProxyType
from typing import Final

MAX_CONNECTIONS_PER_NODE: Final = MappingProxyType(
    {
        "M10": 1_500,
        "M20": 3_000,
        "M30": 3_000,
        "M40": 6_000,
        "M50": 16_000,
        "M60": 32_000,
        "M80": 96_000,
        "M140": 96_000,
        "M200": 128_000,
        "M300": 128_000,
    }
)

# Alert before the limit, while there is still time to scale or find the connection leak.
CONNECTION_ALERT_RATIO: Final = 0.8

# Atlas's own default for an AWS peering container: a /21 outside the 10.0.0.0/8 space our VPCs use.
ATLAS_CIDR: Final = IPv4Network("192.168.248.0/21")


def connection_alert_threshold(instance_size: str) -> int:
    """Connections per node at which to alert: 80% of the tier's limit (M30 -> 2,400)."""
    try:
        limit = MAX_CONNECTIONS_PER_NODE[instance_size]
    except KeyError:
        known = ", ".join(MAX_CONNECTIONS_PER_NODE)
        raise ValueError(f"no connection limit known for Atlas tier {instance_size!r}; known: {known}") from None
    return int(limit * CONNECTION_ALERT_RATIO)


def atlas_cidr_for(vpc_cidr: IPv4Network) -> IPv4Network:
    """The Atlas project's CIDR; peering needs it disjoint from the VPC's, or routes would be ambiguous."""
    if ATLAS_CIDR.overlaps(vpc_cidr):
        raise ValueError(
            f"contentry:vpcCidr {vpc_cidr} overlaps the Atlas peering range {ATLAS_CIDR}: pick a VPC range in"
            " 10.0.0.0/8 or 172.16.0.0/12"
        )
    return ATLAS_CIDR
