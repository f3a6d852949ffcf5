"""NAT gateways, public IPv4 addresses, VPC endpoints and load balancers; the VPC's free plumbing."""

from __future__ import annotations

from decimal import Decimal

from infra.cost.model import Category, Kind
from infra.cost.pricing import Bill, Ladder, PricerSpec, UsageKey

NAT_DATA = UsageKey("dataProcessedGb", "GB/month", "Data each NAT gateway processes (image pulls, OS updates, APIs)")
ENDPOINT_DATA = UsageKey("dataProcessedGb", "GB/month", "Data an interface endpoint processes")
LB_LCU = UsageKey("lcuPerHour", "LCU", "Average load balancer capacity units per hour over the month")
LB_EGRESS = UsageKey(
    "internetEgressGb", "GB/month", "Responses the load balancer sends to the internet (API traffic to users)"
)
NAT_CROSS_AZ = UsageKey(
    "crossAzGb", "GB/month", "Traffic from instances in other AZs to this NAT gateway (a single NAT for several AZs)"
)
PEERING_CROSS_AZ = UsageKey(
    "crossAzGb", "GB/month", "App <-> Atlas traffic through the peering that crosses AZs (this account's side)"
)


INTERNET_EGRESS = Ladder(
    "internet.data-out",
    (
        (Decimal(10_240), "internet.data-out", "first 10 TB"),
        (Decimal(40_960), "internet.data-out.next-40tb", "next 40 TB"),
        (Decimal(102_400), "internet.data-out.next-100tb", "next 100 TB"),
    ),
)
"""Data out to the internet from EC2, load balancers and S3, counted over the account's month."""


def internet_egress(bill: Bill, gigabytes: Decimal) -> None:
    """Internet egress after the account's free 100 GB, on the volume ladder."""
    free = bill.context.allowances.take("internet.data-out", gigabytes, bill.context.prices)
    component = "Data transfer out to the internet"
    if free:
        component += f" (after {free:,} GB free a month per account)"
    bill.add_tiered(component, gigabytes - free, INTERNET_EGRESS, category=Category.DATA_TRANSFER)


def inter_az_transfer(bill: Bill, gigabytes: Decimal, directions: int, what: str) -> None:
    """Data between AZs of the region: $0.01 a GB out of one AZ and $0.01 into the other. Both ends in this
    account pay both (`directions` 2); across a peering to another account (Atlas), this account pays its end."""
    if not gigabytes:
        return
    bill.add(
        f"Data across AZs ({what}; {'out and in' if directions == 2 else 'this account side'})",
        gigabytes * directions,
        "ec2.data-transfer.inter-az",
        kind=Kind.USAGE,
        category=Category.DATA_TRANSFER,
    )


def _public_ipv4(bill: Bill, count: int, what: str) -> None:
    bill.add(
        f"Public IPv4 address{'es' if count != 1 else ''} ({what})",
        Decimal(count) * bill.context.hours,
        "vpc.public-ipv4",
        category=Category.NETWORK,
    )


def _nat_gateway(bill: Bill) -> None:
    bill.add("NAT gateway", bill.context.hours, "vpc.nat.hour")
    data = bill.usage(NAT_DATA.name)
    if data is not None:
        bill.add("Data processed", data, "vpc.nat.data", kind=Kind.USAGE)
    crossing = bill.usage(NAT_CROSS_AZ.name)
    if crossing is not None:
        inter_az_transfer(bill, crossing, 2, "instances in other AZs to the NAT gateway")


def _peering_accepter(bill: Bill) -> None:
    """No hourly charge for a peering, but traffic through it that crosses AZs is billed like any inter-AZ data
    (traffic that stays within one AZ is free)."""
    crossing = bill.usage(PEERING_CROSS_AZ.name)
    if crossing is not None:
        inter_az_transfer(bill, crossing, 1, "through the peering")


def _eip(bill: Bill) -> None:
    _public_ipv4(bill, 1, "Elastic IP")


def _vpc_endpoint(bill: Bill) -> None:
    endpoint_type = bill.resource.get("vpcEndpointType") or "Gateway"
    if endpoint_type == "Gateway":
        bill.free("a gateway endpoint (S3, DynamoDB): no hourly or data charge")
        return
    interfaces = max(1, len(bill.resource.get("subnetIds", default=[])))
    bill.add(
        f"Endpoint ({endpoint_type}, one network interface per subnet)",
        Decimal(interfaces) * bill.context.hours,
        "vpc.endpoint.interface.hour",
    )
    data = bill.usage(ENDPOINT_DATA.name)
    if data is not None:
        bill.add("Data processed", data, "vpc.endpoint.data", kind=Kind.USAGE)


def _load_balancer(bill: Bill) -> None:
    lb = bill.resource
    lb_type = lb.get("loadBalancerType") or "application"
    if lb_type not in ("application", "network"):
        bill.missing(f"a '{lb_type}' load balancer: no price in the table")
        return
    label = "Application" if lb_type == "application" else "Network"
    bill.add(f"{label} load balancer", bill.context.hours, f"elb.{lb_type}.hour")
    lcu = bill.usage(LB_LCU.name)
    if lcu is not None:
        bill.add("Load balancer capacity units", lcu * bill.context.hours, f"elb.{lb_type}.lcu", kind=Kind.USAGE)
    if lb.get("internal") is True:
        return
    # An internet-facing load balancer holds one public IPv4 address per AZ (subnet), more when it scales out.
    zones = len(lb.get("subnets", default=[])) or len(lb.get("subnetMappings", default=[]))
    if zones:
        _public_ipv4(bill, zones, "one per AZ, at least")
    egress = bill.usage(LB_EGRESS.name)
    if egress is not None:
        internet_egress(bill, egress)


PRICERS = {
    "aws:ec2/natGateway:NatGateway": PricerSpec(_nat_gateway, Category.NETWORK, (NAT_DATA, NAT_CROSS_AZ)),
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": PricerSpec(
        _peering_accepter, Category.DATA_TRANSFER, (PEERING_CROSS_AZ,)
    ),
    "aws:ec2/eip:Eip": PricerSpec(_eip, Category.NETWORK),
    "aws:ec2/vpcEndpoint:VpcEndpoint": PricerSpec(_vpc_endpoint, Category.NETWORK, (ENDPOINT_DATA,)),
    "aws:lb/loadBalancer:LoadBalancer": PricerSpec(_load_balancer, Category.LOAD_BALANCER, (LB_LCU, LB_EGRESS)),
    "aws:alb/loadBalancer:LoadBalancer": PricerSpec(_load_balancer, Category.LOAD_BALANCER, (LB_LCU, LB_EGRESS)),
}

_NO_CHARGE = "no charge for the resource itself"
FREE = {
    "aws:ec2/vpc:Vpc": _NO_CHARGE,
    "aws:ec2/subnet:Subnet": _NO_CHARGE,
    "aws:ec2/internetGateway:InternetGateway": _NO_CHARGE,
    "aws:ec2/routeTable:RouteTable": _NO_CHARGE,
    "aws:ec2/route:Route": _NO_CHARGE,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _NO_CHARGE,
    "aws:ec2/securityGroup:SecurityGroup": _NO_CHARGE,
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _NO_CHARGE,
    "aws:ec2/securityGroupRule:SecurityGroupRule": _NO_CHARGE,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _NO_CHARGE,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _NO_CHARGE,
    "aws:ec2/networkAcl:NetworkAcl": _NO_CHARGE,
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": _NO_CHARGE,
    "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation": _NO_CHARGE,
    "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy": "an endpoint's access policy; no charge of its own",
    "aws:ec2/networkInterface:NetworkInterface": "no charge for an interface itself (its public address is priced)",
    "aws:ec2/flowLog:FlowLog": "billed as log ingestion and storage on its CloudWatch log group",
    "aws:lb/targetGroup:TargetGroup": "part of the load balancer's price",
    "aws:lb/listener:Listener": "part of the load balancer's price",
    "aws:lb/listenerRule:ListenerRule": "part of the load balancer's price (rule evaluations count in LCUs)",
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": _NO_CHARGE,
    "aws:lb/listenerCertificate:ListenerCertificate": _NO_CHARGE,
    "aws:alb/targetGroup:TargetGroup": "part of the load balancer's price",
    "aws:alb/listener:Listener": "part of the load balancer's price",
}
