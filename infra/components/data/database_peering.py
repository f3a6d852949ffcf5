"""Private connectivity from the VPC to the Atlas project: VPC peering, created by `Database` as its children.

Why peering and not PrivateLink: peering has no hourly or per-GB endpoint charge (PrivateLink costs an
interface endpoint per AZ, about $22 a month for three AZs, plus $0.01 per GB), needs no per-node
endpoint service, and one connection serves every cluster of the project in the region. Its constraint is a
non-overlapping CIDR (checked by `atlas_cidr_for`). The IP access list then admits the VPC's range only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_mongodbatlas as atlas

from infra.planning.naming import child_name, name_tag


@dataclass(frozen=True)
class PeeringArgs:
    name_prefix: str
    aws_region: str
    atlas_region: str
    atlas_cidr: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    route_table_ids: Sequence[pulumi.Input[str]]
    """The app subnets' route tables: only the app talks to the database."""


@dataclass(frozen=True)
class Peering:
    container: atlas.NetworkContainer
    accepter: aws.ec2.VpcPeeringConnectionAccepter
    routes: list[aws.ec2.Route]
    """The app subnets' routes to Atlas over the accepted connection."""
    access_list: atlas.ProjectIpAccessList
    """Atlas admits the VPC's range: without it the app's first connection is refused."""


def create_peering(parent: pulumi.Resource, name: str, project_id: pulumi.Input[str], args: PeeringArgs) -> Peering:
    child = pulumi.ResourceOptions(parent=parent)
    account_id = aws.get_caller_identity(opts=pulumi.InvokeOptions(parent=parent)).account_id
    # The container fixes the Atlas side's CIDR in this region; it must exist before the first cluster, or Atlas
    # creates one with its default range.
    container = atlas.NetworkContainer(
        child_name(name, "container"),
        project_id=project_id,
        provider_name="AWS",
        region_name=args.atlas_region,
        atlas_cidr_block=args.atlas_cidr,
        opts=child,
    )
    peering = atlas.NetworkPeering(
        child_name(name, "peering"),
        project_id=project_id,
        container_id=container.container_id,
        provider_name="AWS",
        accepter_region_name=args.aws_region,
        aws_account_id=account_id,
        vpc_id=args.vpc_id,
        route_table_cidr_block=args.vpc_cidr,
        opts=child,
    )
    accepter = aws.ec2.VpcPeeringConnectionAccepter(
        child_name(name, "peering-accepter"),
        vpc_peering_connection_id=peering.connection_id.apply(lambda value: value or ""),
        auto_accept=True,
        tags=name_tag(args.name_prefix, "atlas-peering"),
        opts=child,
    )
    routes = []
    for index, table_id in enumerate(args.route_table_ids):
        route = aws.ec2.Route(
            child_name(name, "atlas-route", index),
            route_table_id=table_id,
            destination_cidr_block=args.atlas_cidr,
            vpc_peering_connection_id=accepter.id,  # the accepted connection: a pending one takes no routes
            opts=child,
        )
        routes.append(route)
    access_list = atlas.ProjectIpAccessList(
        child_name(name, "access-vpc"),
        project_id=project_id,
        cidr_block=args.vpc_cidr,
        comment=f"{args.name_prefix} VPC, over the peering connection",
        opts=child,
    )
    return Peering(container=container, accepter=accepter, routes=routes, access_list=access_list)
