"""What an ElastiCache node holds: its memory, less what ElastiCache reserves for backups and failover. The sizing
keeps the traffic model's cache working set within what a node can use.

Memory (GiB) by node type: the ElastiCache instance table at https://dragonflydb.io/finops/elasticache (a third
party's copy of AWS's node specifications; read 2026-12-01), e.g. "cache.t4g.small | 2 | 1.37 GiB",
"cache.m6g.large | 2 | 6.38 GiB". Reserved memory: Amazon ElastiCache User Guide, "Managing reserved memory"
(https://docs.aws.amazon.com/AmazonElastiCache/latest/red-ug/redis-memory-management.html, read 2026-12-01): the
default `reserved-memory-percent` is 25%, "up to 30% on small instance types, and up to 50% on micro instance types".
"""

from __future__ import annotations

from decimal import Decimal
from types import MappingProxyType
from typing import Final

MEMORY_GIB: Final = MappingProxyType(
    {
        "cache.t4g.micro": Decimal("0.5"),
        "cache.t4g.small": Decimal("1.37"),
        "cache.t4g.medium": Decimal("3.09"),
        "cache.t3.medium": Decimal("3.09"),
        "cache.m6g.large": Decimal("6.38"),
        "cache.m7g.large": Decimal("6.38"),
        "cache.m6g.xlarge": Decimal("12.93"),
        "cache.r6g.large": Decimal("13.07"),
        "cache.r7g.large": Decimal("13.07"),
    }
)
DEFAULT_RESERVED: Final = Decimal("0.25")
RESERVED_BY_SIZE: Final = MappingProxyType({"micro": Decimal("0.50"), "small": Decimal("0.30")})
GIB_PER_GB: Final = Decimal(2**30) / Decimal(10**9)


def usable_gb(node_type: str) -> Decimal | None:
    """GB of data a node holds after its reserved memory, or None for a node type the table does not list."""
    memory = MEMORY_GIB.get(node_type)
    if memory is None:
        return None
    reserved = RESERVED_BY_SIZE.get(node_type.rsplit(".", 1)[-1], DEFAULT_RESERVED)
    return memory * (1 - reserved) * GIB_PER_GB


def holds(node_type: str, working_set_gb: Decimal) -> bool:
    usable = usable_gb(node_type)
    return usable is not None and usable >= working_set_gb
