"""MongoDB Atlas's connection limit per node, by cluster tier: the one table the connection budget and the
connections alert read.

Source: MongoDB Atlas documentation, "Atlas Service Limits", section "Connection Limits and Cluster Tier",
table for AWS, general class (the M tiers this project configures), read 2026-11-25:
https://www.mongodb.com/docs/atlas/reference/atlas-limits/
The limit applies per node (each mongod of the replica set; per mongos on a sharded cluster), and Atlas reserves
10 of them on every node for its own services.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

ATLAS_LIMITS_SOURCE: Final = (
    "https://www.mongodb.com/docs/atlas/reference/atlas-limits/ (Connection Limits and Cluster Tier, AWS general"
    " class; read 2026-11-25)"
)

CONNECTIONS_PER_NODE: Final = MappingProxyType(
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
"""Maximum incoming connections per node (net.maxIncomingConnections), as the source's table prints them."""

ATLAS_RESERVED_CONNECTIONS_PER_NODE: Final = 10
"""Connections Atlas keeps on every node for its own services (the source's example: "Atlas reserves 10
connections per node")."""


class UnknownAtlasTierError(KeyError):
    """A cluster tier the table does not list."""


def connections_per_node(tier: str) -> int:
    try:
        return CONNECTIONS_PER_NODE[tier]
    except KeyError:
        known = ", ".join(CONNECTIONS_PER_NODE)
        raise UnknownAtlasTierError(f"no connection limit recorded for Atlas tier {tier!r}; known: {known}") from None
