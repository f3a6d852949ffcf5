"""Security groups as policies: only the load balancer is reachable from the internet, and only on 80/443; the
app only from the load balancer; every backend only from the app. Through the plan of every stack."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.components.compute.security_groups import CidrEgress, WebSecurityGroups, WebSecurityGroupsArgs
from infra.components.entry.security_group_rules import BackendAccess
from infra.config.loader import RawConfig
from infra.plan.document import Plan
from infra.plan.engine import run_under_mocks
from infra.planning.data.atlas_sizing import ATLAS_CIDR
from tests.infra.compute.compute_support import (
    EC2_STACKS,
    EGRESS_RULE,
    EKS_STACKS,
    INGRESS_RULE,
    SECURITY_GROUP,
    id_of,
    stack_plan,
    the,
)

ANYWHERE = {"0.0.0.0/0", "::/0"}
ALB_SG = "security-groups-alb"
APP_SG = "security-groups-app"
APP_PORT = 8000


def rules(plan: Plan, type_token: str, group_name: str) -> list[dict[str, Any]]:
    return [r for r in plan.of_type(type_token) if r["inputs"]["securityGroupId"] == f"{group_name}-id"]


def open_to_the_internet(rule: dict[str, Any]) -> bool:
    inputs = rule["inputs"]
    return inputs.get("cidrIpv4") in ANYWHERE or inputs.get("cidrIpv6") in ANYWHERE


def ports(rule: dict[str, Any]) -> tuple[int, int]:
    return rule["inputs"]["fromPort"], rule["inputs"]["toPort"]


def test_only_the_load_balancer_group_is_open_to_the_internet(any_plan: Plan) -> None:
    open_rules = [r for r in any_plan.of_type(INGRESS_RULE) if open_to_the_internet(r)]
    for rule in open_rules:
        assert rule["inputs"]["securityGroupId"] == f"{ALB_SG}-id", f"{rule['name']} opens a non-ALB group"
        assert ports(rule) in {(80, 80), (443, 443)}, f"{rule['name']} opens {ports(rule)} to the internet"
    legacy = [
        r
        for r in any_plan.of_type("aws:ec2/securityGroupRule:SecurityGroupRule")
        if r["inputs"].get("type") == "ingress"
        and ANYWHERE & set(r["inputs"].get("cidrBlocks", []) + r["inputs"].get("ipv6CidrBlocks", []))
    ]
    assert not legacy, [r["name"] for r in legacy]
    for group in any_plan.of_type(SECURITY_GROUP):
        for inline in group["inputs"].get("ingress", []):
            assert not ANYWHERE & set(inline.get("cidrBlocks", []) + inline.get("ipv6CidrBlocks", [])), group["name"]


@pytest.mark.parametrize("stack_id", EKS_STACKS)
def test_tier_b_has_a_load_balancer_group_and_no_app_instance_group(stack_id: str) -> None:
    """Tier B's pods carry the EKS cluster security group; its entry rules are tests/infra/kubernetes's."""
    plan = stack_plan(stack_id)
    assert {r["inputs"]["securityGroupId"] for r in plan.of_type(INGRESS_RULE) if open_to_the_internet(r)} == {
        f"{ALB_SG}-id"
    }
    assert APP_SG not in {g["name"] for g in plan.of_type(SECURITY_GROUP)}


def test_no_rule_opens_ssh(any_plan: Plan) -> None:
    for rule in any_plan.of_type(INGRESS_RULE):
        low, high = ports(rule)
        assert not low <= 22 <= high, f"{rule['name']} opens port 22; shell access is Session Manager"


def test_security_groups_have_no_inline_rules(any_plan: Plan) -> None:
    """Inline rules and rule resources on one group fight each other at every update."""
    for group in any_plan.of_type(SECURITY_GROUP):
        assert not group["inputs"].get("ingress"), group["name"]
        assert not group["inputs"].get("egress"), group["name"]


@pytest.mark.parametrize(
    ("stack_id", "listener_ports"), [("prod", {80, 443}), ("prod-tier-C", {80, 443}), ("dev", {80})]
)
def test_the_load_balancer_accepts_its_listener_ports_over_ipv4_and_ipv6(
    stack_id: str, listener_ports: set[int]
) -> None:
    plan = stack_plan(stack_id)
    ingress = rules(plan, INGRESS_RULE, ALB_SG)
    seen = {(ports(r)[0], r["inputs"].get("cidrIpv4") or r["inputs"].get("cidrIpv6")) for r in ingress}
    assert seen == {(port, cidr) for port in listener_ports for cidr in ANYWHERE}
    assert all(r["inputs"]["ipProtocol"] == "tcp" for r in ingress)


@pytest.mark.parametrize("stack_id", sorted(EC2_STACKS))
def test_the_load_balancer_sends_only_to_the_app_port(stack_id: str) -> None:
    plan = stack_plan(stack_id)
    (egress,) = rules(plan, EGRESS_RULE, ALB_SG)
    assert egress["inputs"]["referencedSecurityGroupId"] == f"{APP_SG}-id"
    assert ports(egress) == (APP_PORT, APP_PORT)
    assert "cidrIpv4" not in egress["inputs"]


@pytest.mark.parametrize("stack_id", sorted(EC2_STACKS))
def test_the_app_accepts_only_the_load_balancer(stack_id: str) -> None:
    plan = stack_plan(stack_id)
    (ingress,) = rules(plan, INGRESS_RULE, APP_SG)
    assert ingress["inputs"]["referencedSecurityGroupId"] == f"{ALB_SG}-id"
    assert ports(ingress) == (APP_PORT, APP_PORT)
    template = the(plan, "aws:ec2/launchTemplate:LaunchTemplate", "app-fleet-template")
    assert template["inputs"]["vpcSecurityGroupIds"] == [f"{APP_SG}-id"]
    alb = the(plan, "aws:lb/loadBalancer:LoadBalancer")
    assert alb["inputs"]["securityGroups"] == [f"{ALB_SG}-id"]


@pytest.mark.parametrize("stack_id", sorted(EC2_STACKS))
def test_data_tier_groups_accept_only_the_app(stack_id: str) -> None:
    plan = stack_plan(stack_id)
    # The NAT instance (dev) is no backend: tests/infra/test_nat_instance.py holds its rules.
    web = {f"{ALB_SG}-id", f"{APP_SG}-id", "network-nat-instance-sg-id"}
    backend_rules = [r for r in plan.of_type(INGRESS_RULE) if r["inputs"]["securityGroupId"] not in web]
    assert backend_rules, "the cache's group should accept the app"
    # The app, and the job workers' fleet (Redis is their broker; issue 16).
    clients = {f"{APP_SG}-id", "worker-fleet-security-group-id"}
    for rule in backend_rules:
        assert rule["inputs"].get("referencedSecurityGroupId") in clients, rule["name"]
        assert "cidrIpv4" not in rule["inputs"], rule["name"]
        assert "cidrIpv6" not in rule["inputs"], rule["name"]
    cache_group = the(plan, SECURITY_GROUP, "cache-sg")
    (cache_rule,) = [
        r
        for r in backend_rules
        if r["inputs"]["securityGroupId"] == id_of(cache_group)
        and r["inputs"]["referencedSecurityGroupId"] == f"{APP_SG}-id"
    ]
    assert ports(cache_rule) == (6379, 6379)


@pytest.mark.parametrize("stack_id", sorted(EC2_STACKS))
def test_the_app_reaches_only_https_atlas_and_its_backends(stack_id: str) -> None:
    plan = stack_plan(stack_id)
    egress = {
        (r["inputs"].get("cidrIpv4") or r["inputs"].get("referencedSecurityGroupId"), ports(r))
        for r in rules(plan, EGRESS_RULE, APP_SG)
    }
    cache_group = id_of(the(plan, SECURITY_GROUP, "cache-sg"))
    assert egress == {
        ("0.0.0.0/0", (443, 443)),
        (str(ATLAS_CIDR), (27015, 27017)),
        (cache_group, (6379, 6379)),
    }


# cacheMode external, as an operator sets it (`--set` marks the URL secret, as `pulumi config set --secret`).
EXTERNAL_REDIS = ("cacheMode=external", "externalRedisUrl=rediss://default:offline-placeholder@redis.example.com:6380")


def app_egress(plan: Plan) -> set[tuple[str, tuple[int, int]]]:
    return {
        (r["inputs"].get("cidrIpv4") or r["inputs"].get("referencedSecurityGroupId"), ports(r))
        for r in rules(plan, EGRESS_RULE, APP_SG)
    }


@pytest.mark.parametrize("stack_id", ["dev", "prod-tier-C"])
def test_with_an_external_redis_the_app_reaches_its_port_and_no_cache_group(stack_id: str) -> None:
    plan = stack_plan(stack_id, EXTERNAL_REDIS)
    assert not plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
    assert app_egress(plan) == {
        ("0.0.0.0/0", (443, 443)),
        (str(ATLAS_CIDR), (27015, 27017)),
        ("0.0.0.0/0", (6380, 6380)),  # the URL's port, outside the VPC: through the NAT
    }
    (rule,) = [r for r in rules(plan, EGRESS_RULE, APP_SG) if ports(r) == (6380, 6380)]
    assert rule["inputs"]["ipProtocol"] == "tcp"
    assert "offline-placeholder" not in json.dumps(plan.resources), "only the port leaves the secret URL"


@pytest.mark.parametrize(
    ("url", "port"), [("redis://:pw@redis.example.com", 6379), ("rediss://:pw@r.example.com:12000/0", 12000)]
)
def test_the_external_redis_rule_follows_the_urls_port(url: str, port: int) -> None:
    plan = stack_plan("dev", ("cacheMode=external", f"externalRedisUrl={url}"))
    assert ("0.0.0.0/0", (port, port)) in app_egress(plan)


def test_backend_names_are_slugs() -> None:
    with pytest.raises(ValueError, match="slug"):
        BackendAccess(name="Cache Cluster", security_group_id="sg-1", port=6379, description="x")


def test_every_backend_gets_one_ingress_and_one_egress_rule() -> None:
    """The component itself, under the mock engine: two backends, each granted to the app alone."""

    def program() -> None:
        WebSecurityGroups(
            "web",
            WebSecurityGroupsArgs(
                name_prefix="contentry-test",
                vpc_id="vpc-1",
                app_port=APP_PORT,
                listener_ports=(80, 443),
                backends=[
                    BackendAccess(name="cache", security_group_id="sg-cache", port=6379, description="Redis"),
                    BackendAccess(name="search", security_group_id="sg-search", port=9200, description="Search"),
                ],
                egress=[CidrEgress("https", "0.0.0.0/0", 443, 443, "HTTPS")],
            ),
        )

    recording = run_under_mocks(
        RawConfig(project="contentry", stack="test", values={"aws:region": "us-east-1"}), program
    )
    ingress = [r for r in recording.resources if r.type == INGRESS_RULE]
    egress = [r for r in recording.resources if r.type == EGRESS_RULE]
    for group, port in (("sg-cache", 6379), ("sg-search", 9200)):
        (into_backend,) = [r for r in ingress if r.inputs["securityGroupId"] == group]
        assert into_backend.inputs["referencedSecurityGroupId"] == "web-app-id"
        assert (into_backend.inputs["fromPort"], into_backend.inputs["toPort"]) == (port, port)
        (to_backend,) = [r for r in egress if r.inputs.get("referencedSecurityGroupId") == group]
        assert to_backend.inputs["securityGroupId"] == "web-app-id"
    assert len([r for r in ingress if r.inputs["securityGroupId"] == "web-alb-id"]) == 4  # 80/443 x IPv4/IPv6


# What EC2 accepts in security group and rule descriptions; anything else fails only at `pulumi up`.
_DESCRIPTION_CHARACTERS = re.compile(r"^[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]{0,255}$")


def test_descriptions_use_only_characters_ec2_accepts(any_plan: Plan) -> None:
    groups_and_rules = [r for t in (SECURITY_GROUP, INGRESS_RULE, EGRESS_RULE) for r in any_plan.of_type(t)]
    assert groups_and_rules
    for resource in groups_and_rules:
        description = resource["inputs"].get("description", "")
        assert _DESCRIPTION_CHARACTERS.match(description), f"{resource['name']}: {description!r}"
