"""The network component, through the plan, for every tier and environment."""

from __future__ import annotations

import json
from ipaddress import IPv4Network
from typing import Any

import pytest

from infra.plan.document import Plan
from tests.infra.plans import STACKS, plan_of

# stack id -> (AZs, NAT gateways)
EXPECTED = {
    "dev": (2, 0),  # tier C: a NAT instance (development only), the documented trade-off
    "prod": (3, 3),
    "dev-tier-B": (3, 3),
    "prod-tier-B": (3, 3),
    "prod-tier-C": (3, 3),
}


def subnets(plan: Plan, tier: str) -> list[dict[str, Any]]:
    return [s for s in plan.of_type("aws:ec2/subnet:Subnet") if s["inputs"]["tags"]["SubnetTier"] == tier]


def by_urn(plan: Plan) -> dict[str, dict[str, Any]]:
    return {r["urn"]: r for r in plan.resources}


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_azs_subnet_tiers_and_nat_count(stack_id: str) -> None:
    plan = plan_of(*STACKS[stack_id])
    azs, nats = EXPECTED[stack_id]
    assert len(plan.outputs["availabilityZones"]) == azs
    for tier in ("public", "private", "isolated"):
        tier_subnets = subnets(plan, tier)
        assert len(tier_subnets) == azs, f"{stack_id}: {tier} subnets"
        # Placed by zone ID, the physical zone the instance-type offerings were checked in.
        assert {s["inputs"]["availabilityZoneId"] for s in tier_subnets} == set(plan.outputs["availabilityZoneIds"])
        assert all("availabilityZone" not in s["inputs"] for s in tier_subnets), "the ID alone places a subnet"
    assert len(plan.of_type("aws:ec2/natGateway:NatGateway")) == nats
    assert len(plan.of_type("aws:ec2/eip:Eip")) == nats


def test_subnets_are_inside_the_stack_vpc_and_disjoint(any_plan: Plan) -> None:
    vpc = IPv4Network(any_plan.of_type("aws:ec2/vpc:Vpc")[0]["inputs"]["cidrBlock"])
    cidrs = [IPv4Network(s["inputs"]["cidrBlock"]) for s in any_plan.of_type("aws:ec2/subnet:Subnet")]
    assert all(c.subnet_of(vpc) for c in cidrs)
    assert len({str(c) for c in cidrs}) == len(cidrs)
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])


def test_stack_vpcs_do_not_overlap_so_they_can_be_peered() -> None:
    dev = IPv4Network(plan_of("dev").of_type("aws:ec2/vpc:Vpc")[0]["inputs"]["cidrBlock"])
    prod = IPv4Network(plan_of("prod").of_type("aws:ec2/vpc:Vpc")[0]["inputs"]["cidrBlock"])
    assert not dev.overlaps(prod)


def test_no_subnet_assigns_public_ips(any_plan: Plan) -> None:
    for subnet in any_plan.of_type("aws:ec2/subnet:Subnet"):
        assert subnet["inputs"].get("mapPublicIpOnLaunch") is False, subnet["name"]


def test_only_public_subnets_are_dual_stack_for_the_load_balancer(any_plan: Plan) -> None:
    (vpc,) = any_plan.of_type("aws:ec2/vpc:Vpc")
    assert vpc["inputs"]["assignGeneratedIpv6CidrBlock"] is True
    for subnet in any_plan.of_type("aws:ec2/subnet:Subnet"):
        is_public = subnet["inputs"]["tags"]["SubnetTier"] == "public"
        assert ("ipv6CidrBlock" in subnet["inputs"]) is is_public, subnet["name"]
        if is_public:
            assert subnet["inputs"]["ipv6CidrBlock"].endswith("/64"), subnet["name"]
            assert subnet["inputs"]["assignIpv6AddressOnCreation"] is False, subnet["name"]
    public_blocks = [s["inputs"]["ipv6CidrBlock"] for s in subnets(any_plan, "public")]
    assert len(set(public_blocks)) == len(public_blocks)


def routes_of_table(plan: Plan, table_name: str) -> list[dict[str, Any]]:
    table_urn = next(r["urn"] for r in plan.of_type("aws:ec2/routeTable:RouteTable") if r["name"] == table_name)
    table_id = f"{table_name}-id"
    routes = [r for r in plan.of_type("aws:ec2/route:Route") if r["inputs"]["routeTableId"] == table_id]
    assert table_urn
    return routes


def associations(plan: Plan, table_name: str) -> set[str]:
    table_id = f"{table_name}-id"
    return {
        a["inputs"]["subnetId"]
        for a in plan.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
        if a["inputs"]["routeTableId"] == table_id
    }


def test_public_subnets_route_to_the_internet_gateway(any_plan: Plan) -> None:
    routes = routes_of_table(any_plan, "network-public-rt")
    destinations = sorted(
        (r["inputs"].get("destinationCidrBlock") or r["inputs"]["destinationIpv6CidrBlock"], r["inputs"]["gatewayId"])
        for r in routes
    )
    assert destinations == [("0.0.0.0/0", "network-igw-id"), ("::/0", "network-igw-id")]
    assert associations(any_plan, "network-public-rt") == {f"{s['name']}-id" for s in subnets(any_plan, "public")}


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_each_private_subnet_routes_through_its_own_az_nat_when_one_per_az(stack_id: str) -> None:
    plan = plan_of(*STACKS[stack_id])
    azs, nats = EXPECTED[stack_id]
    nat_of_table = {}
    for index in range(azs):
        # The default route only: the data tier adds a route to Atlas over the peering connection here too.
        all_routes = routes_of_table(plan, f"network-private-rt-{index}")
        routes = [r for r in all_routes if "vpcPeeringConnectionId" not in r["inputs"]]
        assert len(routes) == 1
        assert routes[0]["inputs"]["destinationCidrBlock"] == "0.0.0.0/0"
        # A NAT gateway, or the NAT instance's static interface (natStrategy=instance)
        inputs = routes[0]["inputs"]
        nat_of_table[index] = inputs["natGatewayId"] if nats else inputs["networkInterfaceId"]
        assert associations(plan, f"network-private-rt-{index}") == {f"network-private-{index}-id"}
    assert len(set(nat_of_table.values())) == max(nats, 1)
    nat_subnet = {f"{n['name']}-id": n["inputs"]["subnetId"] for n in plan.of_type("aws:ec2/natGateway:NatGateway")}
    for index, nat in nat_of_table.items():
        if nats == azs:  # same AZ: losing one AZ never takes another AZ's egress down
            assert nat_subnet[nat] == f"network-public-{index}-id"


def test_isolated_subnets_have_no_route_out(any_plan: Plan) -> None:
    assert routes_of_table(any_plan, "network-isolated-rt") == []
    assert associations(any_plan, "network-isolated-rt") == {f"{s['name']}-id" for s in subnets(any_plan, "isolated")}


def test_nat_gateways_sit_in_public_subnets_with_elastic_ips(any_plan: Plan) -> None:
    public_ids = {f"{s['name']}-id" for s in subnets(any_plan, "public")}
    for nat in any_plan.of_type("aws:ec2/natGateway:NatGateway"):
        assert nat["inputs"]["subnetId"] in public_ids
        assert nat["inputs"]["allocationId"].endswith("-id")
        igw = next(r["urn"] for r in any_plan.of_type("aws:ec2/internetGateway:InternetGateway"))
        assert igw in nat["options"]["dependsOn"]


def test_s3_gateway_endpoint_serves_private_and_isolated_tables(any_plan: Plan) -> None:
    (endpoint,) = any_plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint["inputs"]["vpcEndpointType"] == "Gateway"
    assert endpoint["inputs"]["serviceName"] == f"com.amazonaws.{any_plan.outputs['region']}.s3"
    tables = set(endpoint["inputs"]["routeTableIds"])
    expected = {
        r["name"] + "-id" for r in any_plan.of_type("aws:ec2/routeTable:RouteTable") if "public" not in r["name"]
    }
    assert tables == expected


def test_flow_logs_capture_all_traffic_to_a_retained_log_group(any_plan: Plan) -> None:
    (flow_log,) = any_plan.of_type("aws:ec2/flowLog:FlowLog")
    assert flow_log["inputs"]["trafficType"] == "ALL"
    assert flow_log["inputs"]["vpcId"] == "network-vpc-id"
    (group,) = [g for g in any_plan.of_type("aws:cloudwatch/logGroup:LogGroup") if g["name"] == "network-flow-logs"]
    # The destination is the log group's own ARN (the offline engine derives it from the group's name).
    region = any_plan.outputs["region"]
    assert flow_log["inputs"]["logDestination"] == f"arn:aws:logs:{region}:123456789012:{group['name']}"
    assert flow_log["inputs"]["logDestinationType"] == "cloud-watch-logs"
    # Tier C's preset keeps a week (development); production overrides it to a year, tiers A and B keep a year.
    development_c = any_plan.tier == "C" and any_plan.config["environment"] != "production"
    expected_days = 7 if development_c else 365
    assert group["inputs"]["retentionInDays"] == expected_days


def test_flow_log_role_can_write_only_to_its_log_group(any_plan: Plan) -> None:
    (policy,) = [
        p for p in any_plan.of_type("aws:iam/rolePolicy:RolePolicy") if p["name"] == "network-flow-logs-policy"
    ]
    document = json.loads(policy["inputs"]["policy"])
    by_action = {action: statement["Resource"] for statement in document["Statement"] for action in statement["Action"]}
    for action in ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"):
        assert by_action[action] != "*", action
        assert all("network-flow-logs" in arn for arn in by_action[action]), action
    # DescribeLogGroups takes only "*" (on a log group ARN the grant matches nothing), and it only lists.
    assert by_action["logs:DescribeLogGroups"] == "*"
    assert set(by_action) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
        "logs:DescribeLogGroups",
    }
    assert not any(action.endswith("*") for action in by_action)


def test_only_this_account_s_flow_logs_may_assume_the_role(any_plan: Plan) -> None:
    """aws:SourceAccount and aws:SourceArn, as AWS recommends against the confused deputy."""
    (role,) = [r for r in any_plan.of_type("aws:iam/role:Role") if r["name"] == "network-flow-logs-role"]
    (statement,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    region = any_plan.outputs["region"]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{region}:123456789012:vpc-flow-log/*"},
    }


def test_default_security_group_is_locked_down(any_plan: Plan) -> None:
    (default_sg,) = any_plan.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default_sg["inputs"]["ingress"] == []
    assert default_sg["inputs"]["egress"] == []


def test_vpc_resolves_dns_for_endpoints_and_peering(any_plan: Plan) -> None:
    (vpc,) = any_plan.of_type("aws:ec2/vpc:Vpc")
    assert vpc["inputs"]["enableDnsSupport"] is True
    assert vpc["inputs"]["enableDnsHostnames"] is True


def test_flow_logs_are_kept_through_a_destroy_in_production_only(prod_plan: Plan, dev_plan: Plan) -> None:
    def flow_log_group(plan: Plan) -> dict[str, Any]:
        return next(r for r in plan.of_type("aws:cloudwatch/logGroup:LogGroup") if r["name"] == "network-flow-logs")

    assert flow_log_group(prod_plan)["options"]["protect"] is True
    assert flow_log_group(prod_plan)["options"]["retainOnDelete"] is True
    assert flow_log_group(dev_plan)["options"]["protect"] is False
