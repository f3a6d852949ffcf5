"""The VPC: public, private (app) and isolated (data) subnets across the tier's AZs, egress, flow logs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.nat_instance import NatInstance, NatInstanceArgs
from infra.config.model import NatStrategy
from infra.planning.cidr import PlannedSubnet, SubnetTier, plan_subnets, public_ipv6_subnet
from infra.planning.flow_logs import flow_logs_permissions, flow_logs_trust_policy
from infra.planning.naming import child_name, name_tag
from infra.planning.protection import Protection
from infra.planning.zones import Zone, ZoneChoiceError, choose_zones, offered_zone_ids


@dataclass(frozen=True)
class NetworkArgs:
    name_prefix: str
    """Prefix of Name tags, `<project>-<stack>`."""
    region: str
    vpc_cidr: IPv4Network
    az_count: int
    instance_types: Sequence[str]
    """EC2 instance types every chosen AZ must offer: the app's, and the one the cache nodes run on."""
    nat_strategy: NatStrategy
    flow_log_retention_days: int
    guard: Protection
    """Production keeps the flow logs (an audit trail) through a destroy or a rename."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """The stack's tags, for what an Auto Scaling group launches (the NAT instance): default tags miss it."""
    nat_instance_ports: Sequence[int] = (443,)
    """The TCP ports a NAT instance forwards: the app's internet egress (HTTPS, an external Redis's port)."""


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    vpc_cidr_block: pulumi.Output[str]
    availability_zones: list[str]
    """Zone names, as this account maps them (what the console shows)."""
    availability_zone_ids: list[str]
    """The same zones' IDs: the physical zones, where the subnets are placed."""
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    isolated_subnet_ids: list[pulumi.Output[str]]
    private_route_table_ids: list[pulumi.Output[str]]
    isolated_route_table_id: pulumi.Output[str]
    s3_endpoint_id: pulumi.Output[str]
    """The S3 gateway endpoint: its policy is set once the stack's buckets exist (S3EndpointPolicy)."""
    private_egress: list[pulumi.Resource]
    """What an instance in a private subnet needs to reach out at boot (packages, the image, the secret): the
    default routes through the NAT gateways, the subnets' association with their tables, and the S3 endpoint
    (image layers). The fleet waits for them (depends_on)."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:network:Network", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)

        zones = self._pick_availability_zones()
        self.availability_zones = [zone.name for zone in zones]
        self.availability_zone_ids = [zone.zone_id for zone in zones]
        vpc = aws.ec2.Vpc(
            child_name(name, "vpc"),
            cidr_block=str(args.vpc_cidr),
            enable_dns_support=True,  # both required by interface/gateway endpoints and Atlas peering DNS
            enable_dns_hostnames=True,
            # An Amazon-provided IPv6 /56, used by the public subnets only: the load balancer is dual-stack.
            assign_generated_ipv6_cidr_block=True,
            tags=name_tag(args.name_prefix, "vpc"),
            opts=child,
        )
        self.vpc_id = vpc.id
        self.vpc_cidr_block = vpc.cidr_block
        # Adopt the default security group and strip its rules: nothing should ever use it by accident.
        aws.ec2.DefaultSecurityGroup(
            child_name(name, "default-sg"),
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags=name_tag(args.name_prefix, "default-sg-unused"),
            opts=child,
        )

        subnets = self._subnets(vpc)
        public = subnets[SubnetTier.PUBLIC]
        self.public_subnet_ids = [s.id for s in public]
        self.private_subnet_ids = [s.id for s in subnets[SubnetTier.PRIVATE]]
        self.isolated_subnet_ids = [s.id for s in subnets[SubnetTier.ISOLATED]]

        igw = aws.ec2.InternetGateway(
            child_name(name, "igw"), vpc_id=vpc.id, tags=name_tag(args.name_prefix, "igw"), opts=child
        )
        self._public_routes(vpc, igw, public)
        nat_targets = self._nat_targets(vpc, igw, public)
        # What the monitoring watches (port allocation errors); a NAT instance heals through its group of one.
        self.nat_gateway_ids = [target["nat_gateway_id"] for target in nat_targets if "nat_gateway_id" in target]
        private_tables, self.private_egress = self._private_routes(vpc, nat_targets, subnets[SubnetTier.PRIVATE])
        isolated_table = self._isolated_routes(vpc, subnets[SubnetTier.ISOLATED])
        self.private_route_table_ids = [t.id for t in private_tables]
        self.isolated_route_table_id = isolated_table.id

        # S3 traffic (app uploads, image layers from ECR's S3) stays off the NAT gateways: free and private. Its
        # policy (which buckets) is a separate resource, set after the data tier (program.py).
        s3_endpoint = aws.ec2.VpcEndpoint(
            child_name(name, "s3-endpoint"),
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[*self.private_route_table_ids, self.isolated_route_table_id],
            tags=name_tag(args.name_prefix, "s3-endpoint"),
            opts=child,
        )
        self.s3_endpoint_id = s3_endpoint.id
        self.private_egress.append(s3_endpoint)
        self._flow_logs(vpc)

        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "availabilityZones": self.availability_zones,
                "availabilityZoneIds": self.availability_zone_ids,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "isolatedSubnetIds": self.isolated_subnet_ids,
            }
        )

    def _pick_availability_zones(self) -> list[Zone]:
        # Plain (not Output) invokes: the AZ count decides how many resources exist, and resources must not be
        # created inside .apply() (they would be missing from `pulumi preview`).
        invoke = pulumi.InvokeOptions(parent=self)
        zones = aws.get_availability_zones(
            state="available",
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],  # no Local Zones
            opts=invoke,
        )
        # By zone ID: offerings differ by physical zone, and names map to physical zones per account.
        offerings = aws.ec2.get_instance_type_offerings(
            location_type="availability-zone-id",
            filters=[{"name": "instance-type", "values": list(self._args.instance_types)}],
            opts=invoke,
        )
        try:
            return choose_zones(
                # Parallel lists: the provider fills both from one list of zones sorted by name.
                [Zone(name, zone_id) for name, zone_id in zip(zones.names, zones.zone_ids, strict=True)],
                offered_zone_ids(offerings.instance_types, offerings.locations),
                self._args.instance_types,
                self._args.az_count,
                region=self._args.region,
            )
        except ZoneChoiceError as error:
            raise pulumi.RunError(str(error)) from error

    def _subnets(self, vpc: aws.ec2.Vpc) -> dict[SubnetTier, list[aws.ec2.Subnet]]:
        subnets: dict[SubnetTier, list[aws.ec2.Subnet]] = {tier: [] for tier in SubnetTier}
        for planned in plan_subnets(self._args.vpc_cidr, self._args.az_count):
            zone = self.availability_zones[planned.az_index]
            subnets[planned.tier].append(
                aws.ec2.Subnet(
                    child_name(self._name, planned.tier.value, planned.az_index),
                    vpc_id=vpc.id,
                    cidr_block=str(planned.cidr),
                    # The physical zone the offerings were checked in (the provider's availability_zone_id; it
                    # conflicts with availability_zone, which this replaces: same zone, so no replacement).
                    availability_zone_id=self.availability_zone_ids[planned.az_index],
                    # Nothing here gets a public IP by itself: the ALB and NAT gateways bring their own.
                    map_public_ip_on_launch=False,
                    **self._ipv6(vpc, planned),
                    tags={
                        **name_tag(self._args.name_prefix, planned.tier.value, zone),
                        "SubnetTier": planned.tier.value,
                    },
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        return subnets

    @staticmethod
    def _ipv6(vpc: aws.ec2.Vpc, planned: PlannedSubnet) -> dict[str, Any]:
        if planned.tier is not SubnetTier.PUBLIC:
            return {}
        index = planned.az_index
        return {
            # Derived from the VPC's block (an output): a value, not a resource, so apply is safe here.
            "ipv6_cidr_block": vpc.ipv6_cidr_block.apply(lambda block: public_ipv6_subnet(block, index)),
            "assign_ipv6_address_on_creation": False,  # the ALB manages its own addresses
        }

    def _public_routes(self, vpc: aws.ec2.Vpc, igw: aws.ec2.InternetGateway, public: list[aws.ec2.Subnet]) -> None:
        child = pulumi.ResourceOptions(parent=self)
        table = aws.ec2.RouteTable(
            child_name(self._name, "public-rt"),
            vpc_id=vpc.id,
            tags=name_tag(self._args.name_prefix, "public"),
            opts=child,
        )
        aws.ec2.Route(
            child_name(self._name, "public-default-route"),
            route_table_id=table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        aws.ec2.Route(
            child_name(self._name, "public-default-route-ipv6"),
            route_table_id=table.id,
            destination_ipv6_cidr_block="::/0",
            gateway_id=igw.id,
            opts=child,
        )
        self._associate(table, public, "public-rta")

    def _nat_targets(
        self, vpc: aws.ec2.Vpc, igw: aws.ec2.InternetGateway, public: list[aws.ec2.Subnet]
    ) -> list[dict[str, pulumi.Output[str]]]:
        """Where each private route table's default route goes: a NAT gateway (per AZ, or one), or the NAT
        instance's static network interface."""
        if self._args.nat_strategy is not NatStrategy.INSTANCE:
            return [{"nat_gateway_id": nat_id} for nat_id in self._nat_gateways(igw, public)]
        nat = NatInstance(
            child_name(self._name, "nat-instance"),
            NatInstanceArgs(
                name_prefix=self._args.name_prefix,
                region=self._args.region,
                vpc_id=vpc.id,
                vpc_cidr=self._args.vpc_cidr,
                subnet_id=public[0].id,
                tags=self._args.tags,
                ports=tuple(self._args.nat_instance_ports),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
        )
        return [{"network_interface_id": nat.network_interface_id}]

    def _nat_gateways(self, igw: aws.ec2.InternetGateway, public: list[aws.ec2.Subnet]) -> list[pulumi.Output[str]]:
        count = len(public) if self._args.nat_strategy is NatStrategy.ONE_PER_AZ else 1
        nat_ids = []
        for index in range(count):
            eip = aws.ec2.Eip(
                child_name(self._name, "nat-eip", index),
                domain="vpc",
                tags=name_tag(self._args.name_prefix, "nat", index),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            )
            nat = aws.ec2.NatGateway(
                child_name(self._name, "nat", index),
                allocation_id=eip.id,
                subnet_id=public[index].id,
                connectivity_type="public",
                tags=name_tag(self._args.name_prefix, "nat", index),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            )
            nat_ids.append(nat.id)
        return nat_ids

    def _private_routes(
        self, vpc: aws.ec2.Vpc, nat_targets: list[dict[str, pulumi.Output[str]]], private: list[aws.ec2.Subnet]
    ) -> tuple[list[aws.ec2.RouteTable], list[pulumi.Resource]]:
        """The private tables, and the routes and associations that give each private subnet its way out."""
        child = pulumi.ResourceOptions(parent=self)
        tables = []
        egress: list[pulumi.Resource] = []
        for index, subnet in enumerate(private):
            # One table per AZ even with a single NAT: switching strategy then changes routes, not tables.
            table = aws.ec2.RouteTable(
                child_name(self._name, "private-rt", index),
                vpc_id=vpc.id,
                tags=name_tag(self._args.name_prefix, "private", index),
                opts=child,
            )
            route = aws.ec2.Route(
                child_name(self._name, "private-default-route", index),
                route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0",
                **nat_targets[index % len(nat_targets)],
                opts=child,
            )
            egress += [route, *self._associate(table, [subnet], "private-rta", first_index=index)]
            tables.append(table)
        return tables, egress

    def _isolated_routes(self, vpc: aws.ec2.Vpc, isolated: list[aws.ec2.Subnet]) -> aws.ec2.RouteTable:
        child = pulumi.ResourceOptions(parent=self)
        # No default route: the data subnets reach nothing outside the VPC (and peered networks).
        table = aws.ec2.RouteTable(
            child_name(self._name, "isolated-rt"),
            vpc_id=vpc.id,
            tags=name_tag(self._args.name_prefix, "isolated"),
            opts=child,
        )
        self._associate(table, isolated, "isolated-rta")
        return table

    def _associate(
        self, table: aws.ec2.RouteTable, subnets: list[aws.ec2.Subnet], label: str, first_index: int = 0
    ) -> list[aws.ec2.RouteTableAssociation]:
        return [
            aws.ec2.RouteTableAssociation(
                child_name(self._name, label, first_index + offset),
                route_table_id=table.id,
                subnet_id=subnet.id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for offset, subnet in enumerate(subnets)
        ]

    def _flow_logs(self, vpc: aws.ec2.Vpc) -> None:
        child = pulumi.ResourceOptions(parent=self)
        log_group = aws.cloudwatch.LogGroup(
            child_name(self._name, "flow-logs"),
            retention_in_days=self._args.flow_log_retention_days,
            tags=name_tag(self._args.name_prefix, "vpc-flow-logs"),
            opts=pulumi.ResourceOptions(
                parent=self, protect=self._args.guard.protect, retain_on_delete=self._args.guard.retain_on_delete
            ),
        )
        account_id = aws.get_caller_identity(opts=pulumi.InvokeOptions(parent=self)).account_id
        role = aws.iam.Role(
            child_name(self._name, "flow-logs-role"),
            # Only this account's flow logs in this region may have the service assume it (confused deputy).
            assume_role_policy=flow_logs_trust_policy(account_id=account_id, region=self._args.region),
            tags=name_tag(self._args.name_prefix, "vpc-flow-logs"),
            opts=child,
        )
        # Least privilege: write to this one log group; find it (DescribeLogGroups takes only "*").
        aws.iam.RolePolicy(
            child_name(self._name, "flow-logs-policy"),
            role=role.id,
            policy=log_group.arn.apply(flow_logs_permissions),
            opts=child,
        )
        aws.ec2.FlowLog(
            child_name(self._name, "flow-log"),
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=name_tag(self._args.name_prefix, "vpc-flow-log"),
            opts=child,
        )
