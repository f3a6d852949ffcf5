"""Which availability zones the VPC spans: those, by zone ID, where EC2 offers every instance type the stack
runs. Pure: the network component feeds it two look-ups (the region's zones, and the instance-type offerings
by zone ID) and places each subnet by the chosen zone's ID.

Why zone IDs: a zone name (us-east-1c) is mapped to a physical zone per account, a zone ID (use1-az3) is the
physical zone itself, and offerings differ by physical zone (in us-east-1, use1-az3 offers no Graviton type).
Picking by name alone could put a c7g or t4g fleet's subnet in a zone where it cannot launch: the group would
silently run in the other zones only.

Why the order is by name, filtered: a stack whose first zones all qualify keeps the zones it had before zone IDs
were considered, and with more AZs the choice only grows at its end, so adding an AZ never moves a subnet (the
CIDR plan, infra/planning/cidr.py, gives zone i the same blocks whatever the count).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from infra.config import CacheMode, NatStrategy, StackConfig
from infra.config.model import ec2_instance_types
from infra.planning.nat_instance import NAT_INSTANCE_TYPE

CACHE_NODE_PREFIX = "cache."


@dataclass(frozen=True, order=True)
class Zone:
    name: str
    zone_id: str


class ZoneChoiceError(ValueError):
    """Fewer zones offer the stack's instance types than the stack needs."""


def ec2_type_of_cache_node(node_type: str) -> str | None:
    """The EC2 instance type an ElastiCache node type runs on (cache.m6g.large: m6g.large), or None when EC2
    has no such type. ElastiCache publishes no per-zone offerings of its own; its node families are EC2's, and
    where EC2 offers no Graviton type, neither does ElastiCache."""
    if not node_type.startswith(CACHE_NODE_PREFIX):
        return None
    candidate = node_type[len(CACHE_NODE_PREFIX) :]
    return candidate if candidate in ec2_instance_types() else None


def zone_instance_types(config: StackConfig) -> tuple[str, ...]:
    """Every EC2 type that must run in each of the stack's zones: the app's (instances or EKS nodes) and the
    cache's, when the cache is provisioned here."""
    types = [config.compute.instance_type]
    if config.cache.mode is CacheMode.ELASTICACHE:
        cache_type = ec2_type_of_cache_node(config.cache.node_type)
        if cache_type is not None:
            types.append(cache_type)
    if config.network.nat_strategy is NatStrategy.INSTANCE:
        # It runs in the first zone only, but every zone must offer it: the first zone is whichever qualifies first.
        types.append(NAT_INSTANCE_TYPE)
    return tuple(dict.fromkeys(types))


def offered_zone_ids(instance_types: Sequence[str], locations: Sequence[str]) -> dict[str, frozenset[str]]:
    """DescribeInstanceTypeOfferings' answer (parallel lists, location type availability-zone-id) by type."""
    if len(instance_types) != len(locations):
        raise ValueError(f"{len(instance_types)} instance types for {len(locations)} locations")
    offered: dict[str, set[str]] = {}
    for instance_type, zone_id in zip(instance_types, locations, strict=True):
        offered.setdefault(instance_type, set()).add(zone_id)
    return {instance_type: frozenset(ids) for instance_type, ids in offered.items()}


def choose_zones(
    zones: Iterable[Zone],
    offered: Mapping[str, frozenset[str]],
    required_types: Sequence[str],
    count: int,
    *,
    region: str,
) -> list[Zone]:
    """The first `count` zones, by name, whose zone ID offers every one of `required_types`."""
    candidates = sorted(zones)
    missing = {
        zone: [wanted for wanted in required_types if zone.zone_id not in offered.get(wanted, frozenset())]
        for zone in candidates
    }
    qualifying = [zone for zone in candidates if not missing[zone]]
    if len(qualifying) >= count:
        return qualifying[:count]
    wanted = " and ".join(required_types)
    lacking = "; ".join(
        f"{zone.zone_id} ({zone.name}) lacks {', '.join(types)}" for zone, types in missing.items() if types
    )
    found = ", ".join(f"{zone.zone_id} ({zone.name})" for zone in qualifying) or "none"
    raise ZoneChoiceError(
        f"contentry:azCount is {count}, but only {len(qualifying)} availability zones of {region} offer {wanted}:"
        f" {found}. {lacking}. Lower azCount, or choose instance types (computeInstanceType, cacheNodeType) that"
        " more zones offer"
    )
