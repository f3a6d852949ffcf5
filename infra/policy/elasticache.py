"""ElastiCache (Redis OSS, Valkey): encrypted at rest and in transit, clients authenticated, and in production
a replica that takes over in another zone."""

from __future__ import annotations

from collections.abc import Iterator

from infra.policy.model import Resource, get, present

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"


def encrypted_at_rest(group: Resource) -> Iterator[str]:
    if get(group.inputs, "atRestEncryptionEnabled") is not True:
        yield f"{group.name} stores data and snapshots unencrypted: set at_rest_encryption_enabled=True"


def encrypted_in_transit(group: Resource) -> Iterator[str]:
    if get(group.inputs, "transitEncryptionEnabled") is not True:
        yield f"{group.name} accepts plain-text connections: set transit_encryption_enabled=True"
    elif get(group.inputs, "transitEncryptionMode") == "preferred":
        yield (
            f"{group.name} still accepts plain-text connections (transit_encryption_mode 'preferred', a migration "
            "step): set transit_encryption_mode='required'"
        )


def clients_authenticated(group: Resource) -> Iterator[str]:
    if not present(group.inputs, "authToken") and not present(group.inputs, "userGroupIds"):
        yield (
            f"{group.name} lets any client in its network connect without a password: set auth_token from a "
            "generated secret (random.RandomPassword) or user_group_ids (RBAC)"
        )


def failover_across_zones(group: Resource) -> Iterator[str]:
    nodes = get(group.inputs, "numCacheClusters")
    replicas = get(group.inputs, "replicasPerNodeGroup")
    has_replica = (isinstance(nodes, int | float) and nodes >= 2) or (
        isinstance(replicas, int | float) and replicas >= 1
    )
    failover = get(group.inputs, "automaticFailoverEnabled") is True
    multi_az = get(group.inputs, "multiAzEnabled") is True
    if not (has_replica and failover and multi_az):
        missing = [
            label
            for label, present in (
                ("a replica (num_cache_clusters >= 2)", has_replica),
                ("automatic_failover_enabled=True", failover),
                ("multi_az_enabled=True", multi_az),
            )
            if not present
        ]
        yield (
            f"{group.name} is a single point of failure in production: add {', '.join(missing)}, so a replica in "
            "another zone takes over when the primary fails"
        )
