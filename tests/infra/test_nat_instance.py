"""natStrategy=instance: a self-healing NAT instance for development stacks, in the plan, the policy check and the
bill; refused in production."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from infra.config.errors import InvalidStackConfig
from infra.cost.stacks import estimate_of
from infra.plan.document import Plan
from infra.planning.nat_instance import NAT_INSTANCE_TYPE, nat_boot_script, nat_instance_permissions
from infra.policy.engine import check_plan
from tests.infra.plans import REPO_ROOT, plan_of

INSTANCE = ("natStrategy=instance",)


def nat_plan() -> Plan:
    return plan_of("dev", INSTANCE)


def named(plan: Plan, name: str) -> dict[str, Any]:
    matches = [r for r in plan.resources if r["name"] == name]
    assert len(matches) == 1, name
    return matches[0]


def test_the_private_routes_point_at_the_static_interface_and_no_gateway_is_left() -> None:
    plan = nat_plan()
    assert not plan.of_type("aws:ec2/natGateway:NatGateway")
    interface = named(plan, "network-nat-instance-eni")
    assert interface["inputs"]["sourceDestCheck"] is False, "it forwards packets addressed elsewhere"
    routes = [r for r in plan.of_type("aws:ec2/route:Route") if r["name"].startswith("network-private-default")]
    assert len(routes) == len(plan.outputs["availabilityZones"])
    for route in routes:
        assert route["inputs"]["destinationCidrBlock"] == "0.0.0.0/0"
        assert route["inputs"]["networkInterfaceId"] == "network-nat-instance-eni-id"
        assert "natGatewayId" not in route["inputs"]


def test_one_instance_heals_itself_in_the_interface_s_subnet() -> None:
    plan = nat_plan()
    group = named(plan, "network-nat-instance-asg")["inputs"]
    assert (group["minSize"], group["maxSize"], group["desiredCapacity"]) == (1, 1, 1)
    assert group["healthCheckType"] == "EC2", "EC2's status checks replace a failed instance"
    assert group["vpcZoneIdentifiers"] == [named(plan, "network-nat-instance-eni")["inputs"]["subnetId"]]
    assert group["launchTemplate"]["version"] not in ("$Latest", "$Default")


def test_the_launch_template_is_hardened_like_every_instance() -> None:
    template = named(nat_plan(), "network-nat-instance-template")["inputs"]
    assert template["instanceType"] == NAT_INSTANCE_TYPE
    assert template["metadataOptions"]["httpTokens"] == "required"
    assert template["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert template["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"
    assert "keyName" not in template
    assert template["networkInterfaces"][0]["associatePublicIpAddress"] == "true", "its way out"
    assert template["tags"]["Role"] == "nat"
    script = base64.b64decode(template["userData"]).decode()
    assert "network-nat-instance-eni-id" in script
    assert "attach-network-interface" in script
    assert "--no-source-dest-check" in script
    assert "MASQUERADE" in script


def test_the_role_may_touch_only_this_stack_s_nat() -> None:
    plan = nat_plan()
    policy = json.loads(named(plan, "network-nat-instance-role-policy")["inputs"]["policy"])
    (statement,) = policy["Statement"]
    assert set(statement["Action"]) == {"ec2:AttachNetworkInterface", "ec2:ModifyNetworkInterfaceAttribute"}
    assert statement["Condition"]["StringEquals"] == {
        "ec2:ResourceTag/Name": "contentry-dev-nat",
        "ec2:ResourceTag/Role": "nat",
    }


def test_the_policy_rules_pass_it_and_keep_public_addresses_to_it() -> None:
    report = check_plan(nat_plan())
    assert report.passed, [f.message for f in report.findings if f.blocks]


def test_it_is_priced_and_cheaper_than_the_gateway() -> None:
    gateway = estimate_of(plan_of("dev", ("natStrategy=single",)), REPO_ROOT)
    instance = estimate_of(nat_plan(), REPO_ROOT)
    lines = {line.component: line for line in instance.lines if line.resource == "network-nat-instance-asg"}
    assert any(key.startswith(f"1 x {NAT_INSTANCE_TYPE}") for key in lines)
    assert any(key.startswith("Public IPv4 address") for key in lines)
    assert not instance.unpriced_baseline
    assert gateway.total - instance.total > 25, "the issue's estimate: about $30 a month less"


def test_production_refuses_it_naming_the_key() -> None:
    with pytest.raises(InvalidStackConfig, match=r"contentry:natStrategy: instance: .*development stacks only"):
        plan_of("prod", INSTANCE)


def test_the_boot_script_quotes_its_inputs_and_retries_the_attachment() -> None:
    script = nat_boot_script(region="us-east-1", interface_id="eni-0123")
    assert "interface_id=eni-0123" in script
    assert "until ip link show dev" in script, "waits until the old instance released the interface"
    hostile = nat_boot_script(region="us-east-1; rm -rf /", interface_id="eni-1")
    assert "region='us-east-1; rm -rf /'" in hostile
    permissions = json.loads(nat_instance_permissions("contentry-x-nat"))
    assert permissions["Statement"][0]["Condition"]["StringEquals"]["ec2:ResourceTag/Name"] == "contentry-x-nat"


def test_it_forwards_only_what_the_app_may_send_to_the_internet() -> None:
    plan = nat_plan()
    group_id = "network-nat-instance-sg-id"
    ingress = [r["inputs"] for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")]
    egress = [r["inputs"] for r in plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")]
    into_nat = [rule for rule in ingress if rule["securityGroupId"] == group_id]
    out_of_nat = [rule for rule in egress if rule["securityGroupId"] == group_id]
    assert {(rule["ipProtocol"], rule["fromPort"], rule["toPort"]) for rule in into_nat} == {("tcp", 443, 443)}
    (vpc,) = plan.of_type("aws:ec2/vpc:Vpc")
    assert {rule["cidrIpv4"] for rule in into_nat} == {vpc["inputs"]["cidrBlock"]}, "from the VPC alone"
    assert {(rule["ipProtocol"], rule["fromPort"], rule["cidrIpv4"]) for rule in out_of_nat} == {
        ("tcp", 443, "0.0.0.0/0")
    }


def test_an_external_redis_port_is_forwarded_too() -> None:
    url = "externalRedisUrl=rediss://default:offline-placeholder@redis.example.com:6380"
    plan = plan_of("dev", (*INSTANCE, "cacheMode=external", url))
    ingress = plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    ports = {r["inputs"]["fromPort"] for r in ingress if r["inputs"]["securityGroupId"] == "network-nat-instance-sg-id"}
    assert ports == {443, 6380}
