"""MongoDB Atlas: TLS 1.2 or newer, never open to the whole internet, and in production restorable to a point
in time and guarded against deletion."""

from __future__ import annotations

from collections.abc import Iterator

from infra.policy.model import Resource, get

ADVANCED_CLUSTER = "mongodbatlas:index/advancedCluster:AdvancedCluster"
CLUSTER = "mongodbatlas:index/cluster:Cluster"
CLUSTER_TYPES = (ADVANCED_CLUSTER, CLUSTER)
ACCESS_LIST = "mongodbatlas:index/projectIpAccessList:ProjectIpAccessList"
MODERN_TLS = ("TLS1_2", "TLS1_3")


def backup_and_point_in_time(cluster: Resource) -> Iterator[str]:
    backup_key = "backupEnabled" if cluster.type == ADVANCED_CLUSTER else "cloudBackup"
    missing = [key for key in (backup_key, "pitEnabled") if get(cluster.inputs, key) is not True]
    if missing:
        yield (
            f"{cluster.name} cannot be restored to a point in time in production ({', '.join(missing)} off): turn "
            f"{' and '.join(missing)} on, with a backup schedule"
        )


def termination_protection(cluster: Resource) -> Iterator[str]:
    if get(cluster.inputs, "terminationProtectionEnabled") is not True:
        yield (
            f"{cluster.name} can be terminated by a destroy or a replacement: set termination_protection_enabled=True "
            "in production"
        )


def tls12_minimum(cluster: Resource) -> Iterator[str]:
    minimum = get(cluster.inputs, "advancedConfiguration", "minimumEnabledTlsProtocol")
    if minimum not in MODERN_TLS:
        yield (
            f"{cluster.name} does not pin its TLS floor ({minimum or 'unset'}): set advanced_configuration "
            "minimum_enabled_tls_protocol='TLS1_2'"
        )


def access_list_not_open(entry: Resource) -> Iterator[str]:
    cidr = get(entry.inputs, "cidrBlock")
    address = get(entry.inputs, "ipAddress")
    if (isinstance(cidr, str) and cidr.endswith("/0")) or address == "0.0.0.0":  # noqa: S104 (the value we refuse)
        yield (
            f"{entry.name} admits every address on the internet ({cidr or address}): list the VPC's CIDR (over the "
            "peering connection) or specific addresses"
        )
