"""The cache: an ElastiCache (Valkey or Redis OSS) replication group in the data subnets.

Encrypted at rest and in transit, behind an AUTH token, reachable only from the app's security group. The
security group has no rules of its own: the compute component adds the one ingress rule from the app's
group (it is created after the data tier, and the data tier must not depend on compute, or the two would
form a cycle).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra.config.model import CacheEngine
from infra.planning.data.cache_engine import EVICTION_POLICY, REDIS_PORT, engine_settings, topology
from infra.planning.data.connection_urls import redis_url
from infra.planning.naming import child_name, name_tag

# Days of daily snapshots kept in production: a cache rebuilds from MongoDB, but a warm restore after a bad
# deploy or an engine upgrade saves the database a cold-cache stampede.
PRODUCTION_SNAPSHOT_DAYS = 7


@dataclass(frozen=True)
class CacheArgs:
    name_prefix: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """The isolated (data) subnets, one per AZ."""
    engine: CacheEngine
    node_type: str
    replicas: int
    is_production: bool


class Cache(pulumi.ComponentResource):
    security_group_id: pulumi.Output[str]
    port: int
    primary_endpoint: pulumi.Output[str]
    redis_url: pulumi.Output[str]
    """Secret: rediss://:<auth token>@<primary endpoint>:6379/0."""
    node_ids: list[pulumi.Output[str]]
    """Each node's cluster id (CacheClusterId, its metrics' dimension), in a stable order; one per node, known
    before `up` from the node count, the ids from the group's member clusters."""
    has_replica: bool

    def __init__(self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:cache:Cache", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = engine_settings(args.engine)
        shape = topology(args.replicas)
        self.port = REDIS_PORT

        security_group = aws.ec2.SecurityGroup(
            child_name(name, "sg"),
            vpc_id=args.vpc_id,
            # EC2 refuses apostrophes (and most punctuation) in group descriptions, which the plan cannot catch.
            description="ElastiCache: ingress only from the app security group (rule owned by compute)",
            # No inline rules, and none here at all: the compute component grants the app's group on port 6379.
            # The cache never opens connections, so it needs no egress either.
            tags=name_tag(args.name_prefix, "cache"),
            opts=child,
        )
        subnet_group = aws.elasticache.SubnetGroup(
            child_name(name, "subnets"),
            description="Data (isolated) subnets: no route to or from the internet",
            subnet_ids=list(args.subnet_ids),
            tags=name_tag(args.name_prefix, "cache"),
            opts=child,
        )
        parameters = aws.elasticache.ParameterGroup(
            child_name(name, "params"),
            family=settings.parameter_family,
            description="Cache semantics: evict least recently used keys when full",
            parameters=[aws.elasticache.ParameterGroupParameterArgs(name="maxmemory-policy", value=EVICTION_POLICY)],
            tags=name_tag(args.name_prefix, "cache"),
            opts=child,
        )
        # ElastiCache AUTH tokens: 16-128 printable characters, no '@', '"' or '/'. Letters and digits only
        # keep it URL-safe as well.
        auth_token = random.RandomPassword(child_name(name, "auth-token"), length=64, special=False, opts=child)

        group = aws.elasticache.ReplicationGroup(
            child_name(name, "redis"),
            description=f"{args.name_prefix} app cache",
            engine=settings.engine,
            engine_version=settings.version,
            node_type=args.node_type,
            num_cache_clusters=shape.cache_clusters,
            automatic_failover_enabled=shape.automatic_failover,
            multi_az_enabled=shape.multi_az,
            port=REDIS_PORT,
            parameter_group_name=parameters.name,
            subnet_group_name=subnet_group.name,
            security_group_ids=[security_group.id],
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=True,
            auth_token=auth_token.result,
            auto_minor_version_upgrade=True,
            maintenance_window="sun:05:00-sun:06:00",
            snapshot_retention_limit=PRODUCTION_SNAPSHOT_DAYS if args.is_production else 0,
            snapshot_window="03:00-04:00",
            # Automatic snapshots are deleted with their group; a replacement (a change ElastiCache cannot make
            # in place) would take a week of warm restores with it. Snapshot names are unique per region: if an
            # earlier final snapshot still has this name, the delete fails and keeps the old group until that
            # snapshot is copied or removed, rather than dropping the data.
            final_snapshot_identifier=f"{args.name_prefix}-cache-final" if args.is_production else None,
            # Production changes wait for the maintenance window instead of restarting nodes mid-day.
            apply_immediately=not args.is_production,
            tags=name_tag(args.name_prefix, "cache"),
            opts=child,
        )

        self.security_group_id = security_group.id
        self.has_replica = shape.automatic_failover
        members = group.member_clusters.apply(lambda ids: _members(ids, shape.cache_clusters))
        self.node_ids = [members.apply(lambda ids, index=index: ids[index]) for index in range(shape.cache_clusters)]
        self.primary_endpoint = group.primary_endpoint_address
        self.redis_url = pulumi.Output.secret(
            pulumi.Output.all(group.primary_endpoint_address, auth_token.result).apply(
                lambda v: redis_url(v[0], REDIS_PORT, v[1], tls=True)
            )
        )
        self.register_outputs(
            {"securityGroupId": self.security_group_id, "primaryEndpoint": self.primary_endpoint, "port": self.port}
        )


def _members(ids: Sequence[str] | None, expected: int) -> list[str]:
    """The group's node ids in a stable order; an alarm on a node that is not there would watch nothing, so a
    count that differs from the topology's stops the update instead."""
    members = sorted(ids or [])
    if len(members) != expected:
        raise pulumi.RunError(f"ElastiCache reports {len(members)} member clusters, the topology has {expected}")
    return members
