"""Security groups: the internet reaches the load balancer's web ports and nothing else.

Ingress is written four ways (a rule resource of the VPC API, the older group rule, and inline blocks on a
group or the VPC's default group); each is read into the same `Ingress` so one check covers them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infra.policy.model import Resource, Stack, get, items

INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
GROUP_TYPES = (GROUP, DEFAULT_GROUP)
INGRESS_TYPES = (INGRESS_RULE, GROUP_RULE, GROUP, DEFAULT_GROUP)
LOAD_BALANCER_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")

ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})
ADMIN_PORTS = {22: "SSH", 3389: "RDP"}
WEB_PORTS = frozenset({80, 443})
ALL_PROTOCOLS = frozenset({"-1", "all"})


@dataclass(frozen=True)
class Ingress:
    protocol: str
    from_port: int
    to_port: int
    sources: tuple[str, ...]

    @property
    def from_anywhere(self) -> list[str]:
        return [source for source in self.sources if source in ANYWHERE]

    def covers(self, port: int) -> bool:
        if self.protocol in ALL_PROTOCOLS:
            return True
        return self.protocol in ("tcp", "6") and self.from_port <= port <= self.to_port

    def describe(self) -> str:
        ports = "all ports" if self.protocol in ALL_PROTOCOLS else _port_range(self.from_port, self.to_port)
        return f"{ports} from {', '.join(self.from_anywhere)}"


def _port_range(low: int, high: int) -> str:
    return f"port {low}" if low == high else f"ports {low}-{high}"


def _port(value: Any, default: int) -> int:
    return int(value) if isinstance(value, int | float) else default


def _ingress(protocol: Any, low: Any, high: Any, sources: list[Any]) -> Ingress:
    protocol_name = str(protocol).lower() if protocol is not None else "-1"
    return Ingress(
        protocol=protocol_name,
        from_port=_port(low, 0),
        to_port=_port(high, 65535),
        sources=tuple(source for source in sources if isinstance(source, str)),
    )


def ingress_of(resource: Resource) -> list[Ingress]:
    """Every ingress permission `resource` grants, whatever way it is written."""
    inputs = resource.inputs
    if resource.type == INGRESS_RULE:
        sources = [get(inputs, "cidrIpv4"), get(inputs, "cidrIpv6")]
        return [_ingress(get(inputs, "ipProtocol"), get(inputs, "fromPort"), get(inputs, "toPort"), sources)]
    if resource.type == GROUP_RULE:
        if get(inputs, "type") != "ingress":
            return []
        sources = items(inputs, "cidrBlocks") + items(inputs, "ipv6CidrBlocks")
        return [_ingress(get(inputs, "protocol"), get(inputs, "fromPort"), get(inputs, "toPort"), sources)]
    return [
        _ingress(
            get(block, "protocol"),
            get(block, "fromPort"),
            get(block, "toPort"),
            items(block, "cidrBlocks") + items(block, "ipv6CidrBlocks"),
        )
        for block in items(inputs, "ingress")
    ]


def no_admin_ports_from_internet(resource: Resource) -> Iterator[str]:
    for ingress in ingress_of(resource):
        if not ingress.from_anywhere:
            continue
        for port, service in ADMIN_PORTS.items():
            if ingress.covers(port):
                yield (
                    f"{resource.name} opens {service} (port {port}) to the internet ({ingress.describe()}): remove "
                    "it; reach instances with SSM Session Manager, which needs no inbound port"
                )


def internet_reaches_only_load_balancer_web_ports(resource: Resource, stack: Stack) -> Iterator[str]:
    open_to_world = [ingress for ingress in ingress_of(resource) if ingress.from_anywhere]
    if not open_to_world:
        return
    group = _group_of(resource, stack)
    fronts_load_balancer = group is not None and any(
        group in stack.referenced(balancer, ("securityGroups",), GROUP_TYPES)
        for balancer in stack.of_type(*LOAD_BALANCER_TYPES)
    )
    for ingress in open_to_world:
        single_port = ingress.from_port == ingress.to_port
        web_port = ingress.protocol in ("tcp", "6") and single_port and ingress.from_port in WEB_PORTS
        if web_port and fronts_load_balancer:
            continue
        where = f"group {group.name}" if group is not None else "a group this stack does not define"
        reason = (
            "only HTTP(S) on 80 or 443 may be open to the internet"
            if fronts_load_balancer
            else "only a load balancer's group may be open to the internet"
        )
        yield (
            f"{resource.name} admits {ingress.describe()} into {where}: {reason}; narrow the source to the load "
            "balancer's security group (referenced_security_group_id) or a known CIDR"
        )


def _group_of(resource: Resource, stack: Stack) -> Resource | None:
    if resource.type in GROUP_TYPES:
        return resource
    groups = stack.referenced(resource, ("securityGroupId",), GROUP_TYPES)
    return groups[0] if len(groups) == 1 else None
