"""MongoDB Atlas clusters and ElastiCache (the Valkey engine has its own, lower, node prices)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from infra.cost.model import Category, Kind
from infra.cost.pricers.network import inter_az_transfer
from infra.cost.pricing import Bill, PricerSpec, UsageKey, integer

ATLAS_PRICED_NODES = 3  # Atlas prices a dedicated tier per hour for a 3-node replica set
NODE_ROLES = (("electableSpecs", "electable"), ("readOnlySpecs", "read-only"), ("analyticsSpecs", "analytics"))
SNAPSHOT_SIZE = UsageKey(
    "snapshotSizeGb",
    "GB",
    "Size of one snapshot (about the data the cache holds); the plan's snapshotRetentionLimit says how many are kept",
)
BACKUP_STORAGE = UsageKey(
    "backupStorageGb", "GB-month", "Snapshot storage the cluster's backup policy keeps (incremental snapshots)"
)
ATLAS_TRANSFER = UsageKey(
    "dataTransferGb", "GB/month", "Data the Atlas nodes send through the peering (query results; incoming is free)"
)
CACHE_CROSS_AZ = UsageKey(
    "crossAzGb", "GB/month", "App <-> cache traffic that crosses AZs, plus replication to replicas in other AZs"
)
# ElastiCache keeps one snapshot per cluster without charge; the others are billed per GB-month (infracost's
# elasticache model bills snapshot size x (retention - 1) the same way).
FREE_SNAPSHOTS = 1


def _region_configs(cluster: Bill) -> list[Mapping[str, Any]]:
    configs = []
    for spec in cluster.resource.get("replicationSpecs", default=[]):
        configs.extend(c for c in (spec.get("regionConfigs") or []) if isinstance(c, Mapping))
    return configs


def _atlas_cluster(bill: Bill) -> None:
    configs = _region_configs(bill)
    if not configs:
        bill.missing("no replicationSpecs[].regionConfigs in the plan: instance size unknown")
        return
    for config in configs:
        provider = config.get("providerName")
        region = config.get("regionName", "?")
        for key, role in NODE_ROLES:
            specs = config.get(key)
            if not isinstance(specs, Mapping) or not integer(specs.get("nodeCount")):
                continue
            size, nodes = specs.get("instanceSize"), integer(specs.get("nodeCount"))
            if provider != "AWS":
                bill.missing(f"{nodes} {role} {size} node(s) on {provider}: only Atlas on AWS is in the table")
                continue
            # The price is per hour of a 3-node replica set; more (or fewer) nodes scale it per node.
            bill.add(
                f"Cluster {size}, {nodes} {role} node{'s' if nodes != 1 else ''} ({region})",
                bill.context.hours * Decimal(nodes) / ATLAS_PRICED_NODES,
                f"atlas.aws.{size}",
                category=Category.DATABASE,
            )
            if nodes != ATLAS_PRICED_NODES or role != "electable":
                bill.context.warnings.append(
                    f"{bill.resource.name}: {nodes} {role} {size} nodes priced pro rata from the 3-node price"
                )
            if specs.get("diskSizeGb"):
                bill.context.warnings.append(
                    f"{bill.resource.name}: custom storage ({specs.get('diskSizeGb')} GB) is billed on top of the "
                    "tier's hourly price when it exceeds the tier's default; not estimated"
                )
        scaling = config.get("autoScaling")
        if isinstance(scaling, Mapping) and scaling.get("computeEnabled"):
            bill.context.warnings.append(
                f"{bill.resource.name}: compute auto-scaling may raise the tier up to "
                f"{scaling.get('computeMaxInstanceSize', 'its maximum')}; the estimate prices the declared size"
            )
    # Backup storage grows with the data and the snapshot schedule. No source prints Atlas's per-GB rate, so it is
    # priced as a range whose two ends are sourced: beside the total, never silently left out of it.
    if bill.resource.get("backupEnabled") is True:
        stored = bill.usage(BACKUP_STORAGE.name)
        if stored is not None:
            bill.add_range(
                "Cloud backup snapshot storage",
                stored,
                "atlas.backup-storage.low-end",
                "atlas.backup-storage.high-end",
                "no source prints Atlas's per-GB cloud backup rate: from AWS's EBS snapshot rate (Atlas's backups on "
                "AWS are EBS snapshots) to MongoDB's published managed-backup rate",
            )
    if bill.resource.get("pitEnabled") is True:
        bill.missing("continuous cloud backup (point-in-time restore): billed by Atlas; no sourced price", Kind.USAGE)


def _atlas_peering(bill: Bill) -> None:
    """The peering connection has no fee of its own, but Atlas bills the data its nodes send through it, per GB at
    AWS's intra-region rate, passed through ("Atlas AWS Data Transfer (Same Region)"); what they receive is free.
    Counted whole: Atlas does not say which part stays within one AZ, so this is the most it can be."""
    sent = bill.usage(ATLAS_TRANSFER.name)
    if sent is not None:
        bill.add(
            "Atlas data transfer through the peering (same region, billed by Atlas)",
            sent,
            "atlas.aws.data-transfer.same-region",
            kind=Kind.USAGE,
        )


def _cache_nodes(bill: Bill, node_type: str | None, engine: str, nodes: int, what: str) -> None:
    if not node_type:
        bill.missing("no node type in the plan")
        return
    engine = engine.lower()
    note = ", Valkey price: 20% below Redis OSS" if engine == "valkey" else ""
    bill.add(
        f"Cache nodes ({engine}, {node_type}): {what}{note}",
        Decimal(nodes) * bill.context.hours,
        f"elasticache.{engine}.{node_type}",
    )


def _replication_group(bill: Bill) -> None:
    group = bill.resource
    shards = integer(group.get("numNodeGroups"), 1)
    if group.get("numCacheClusters") is not None:
        nodes = integer(group.get("numCacheClusters"), 1)
    else:
        nodes = shards * (integer(group.get("replicasPerNodeGroup")) + 1)
    replicas = nodes - shards
    what = f"{shards} primar{'ies' if shards != 1 else 'y'} + {replicas} replica{'s' if replicas != 1 else ''}"
    _cache_nodes(bill, group.get("nodeType"), group.get("engine") or "redis", nodes, what)
    billed_snapshots = integer(group.get("snapshotRetentionLimit")) - FREE_SNAPSHOTS
    if billed_snapshots > 0:
        size = bill.usage(SNAPSHOT_SIZE.name)
        if size is not None:
            bill.add(
                f"Backup storage ({billed_snapshots} of {billed_snapshots + FREE_SNAPSHOTS} daily snapshots; one "
                "is free)",
                size * billed_snapshots,
                "elasticache.backup-storage",
                kind=Kind.USAGE,
            )
    crossing = bill.usage(CACHE_CROSS_AZ.name)
    if crossing is not None:
        inter_az_transfer(bill, crossing, 2, "app to cache and replication")


def _cache_cluster(bill: Bill) -> None:
    cluster = bill.resource
    if cluster.get("replicationGroupId"):
        bill.free("a member of a replication group, priced on the group")
        return
    nodes = integer(cluster.get("numCacheNodes"), 1)
    _cache_nodes(bill, cluster.get("nodeType"), cluster.get("engine") or "redis", nodes, f"{nodes} node(s)")


PRICERS = {
    "mongodbatlas:index/advancedCluster:AdvancedCluster": PricerSpec(
        _atlas_cluster, Category.DATABASE, (BACKUP_STORAGE,)
    ),
    "mongodbatlas:index/networkPeering:NetworkPeering": PricerSpec(
        _atlas_peering, Category.DATA_TRANSFER, (ATLAS_TRANSFER,)
    ),
    "aws:elasticache/replicationGroup:ReplicationGroup": PricerSpec(
        _replication_group, Category.CACHE, (SNAPSHOT_SIZE, CACHE_CROSS_AZ)
    ),
    "aws:elasticache/cluster:Cluster": PricerSpec(_cache_cluster, Category.CACHE),
}

FREE = {
    "mongodbatlas:index/project:Project": "an Atlas project costs nothing; its clusters do",
    "mongodbatlas:index/alertConfiguration:AlertConfiguration": "no charge",
    "mongodbatlas:index/projectIpAccessList:ProjectIpAccessList": "no charge",
    "mongodbatlas:index/databaseUser:DatabaseUser": "no charge",
    "mongodbatlas:index/networkContainer:NetworkContainer": "no charge",
    "mongodbatlas:index/cloudBackupSchedule:CloudBackupSchedule": "snapshot storage is reported on the cluster",
    "mongodbatlas:index/maintenanceWindow:MaintenanceWindow": "no charge",
    "mongodbatlas:index/auditing:Auditing": (
        "Atlas bills no uplift for database auditing (its 'Additional Services' billing page names one only for LDAP"
        " and customer-key encryption); it costs some of the cluster's CPU and disk"
    ),
    "mongodbatlas:index/projectSettings:ProjectSettings": "no charge",
    "aws:elasticache/subnetGroup:SubnetGroup": "no charge",
    "aws:elasticache/parameterGroup:ParameterGroup": "no charge",
    "aws:elasticache/user:User": "no charge",
    "aws:elasticache/userGroup:UserGroup": "no charge",
}
