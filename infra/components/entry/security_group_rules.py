"""The security group pieces both entry shapes build from: tiers A and C (ALB -> instances) and tier B (ALB ->
pods). One place decides what is open to the internet and how a rule between two groups is written, so the two
tiers cannot drift apart.

Rules are separate resources, never inline blocks, so adding one never rewrites (and briefly drops) the others.
Each is named and tagged from its slug parts under the calling component's name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.planning.naming import child_name, name_tag

ANYWHERE_IPV4 = "0.0.0.0/0"
ANYWHERE_IPV6 = "::/0"
_SLUG = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


@dataclass(frozen=True)
class BackendAccess:
    """A data-tier service the app connects to, by security group."""

    name: str
    """Short slug for rule names (`cache`)."""
    security_group_id: pulumi.Input[str]
    port: int
    description: str

    def __post_init__(self) -> None:
        if not _SLUG.match(self.name):
            raise ValueError(f"backend name '{self.name}' must be a short lowercase slug")


@dataclass(frozen=True)
class GroupRules:
    """Where a component's rules go: the component (parent), its name and the stack's name prefix."""

    parent: pulumi.Resource
    name: str
    name_prefix: str

    def ingress(
        self, *slug: str, group_id: pulumi.Input[str], source_group_id: pulumi.Input[str], port: int, description: str
    ) -> aws.vpc.SecurityGroupIngressRule:
        return aws.vpc.SecurityGroupIngressRule(
            child_name(self.name, *slug), **self._rule_args(slug, group_id, source_group_id, port, description)
        )

    def egress(
        self, *slug: str, group_id: pulumi.Input[str], target_group_id: pulumi.Input[str], port: int, description: str
    ) -> aws.vpc.SecurityGroupEgressRule:
        return aws.vpc.SecurityGroupEgressRule(
            child_name(self.name, *slug), **self._rule_args(slug, group_id, target_group_id, port, description)
        )

    def _rule_args(
        self,
        slug: tuple[str, ...],
        group_id: pulumi.Input[str],
        peer_group_id: pulumi.Input[str],
        port: int,
        description: str,
    ) -> dict[str, Any]:
        """One TCP port between this group and a peer group: ingress and egress rules take the same arguments."""
        return {
            "security_group_id": group_id,
            "referenced_security_group_id": peer_group_id,
            "ip_protocol": "tcp",
            "from_port": port,
            "to_port": port,
            "description": description,
            "tags": name_tag(self.name_prefix, *slug),
            "opts": pulumi.ResourceOptions(parent=self.parent),
        }

    def public_load_balancer_group(
        self, *, vpc_id: pulumi.Input[str], listener_ports: Sequence[int], description: str
    ) -> aws.ec2.SecurityGroup:
        """The only group open to the internet: the load balancer's, on its listener ports, IPv4 and IPv6 (the ALB
        is dual-stack)."""
        group = aws.ec2.SecurityGroup(
            child_name(self.name, "alb"),
            vpc_id=vpc_id,
            description=description,
            tags=name_tag(self.name_prefix, "alb"),
            opts=pulumi.ResourceOptions(parent=self.parent),
        )
        for port in sorted(set(listener_ports)):
            for family, cidr in (("ipv4", ANYWHERE_IPV4), ("ipv6", ANYWHERE_IPV6)):
                aws.vpc.SecurityGroupIngressRule(
                    child_name(self.name, "alb-in", port, family),
                    security_group_id=group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr if family == "ipv4" else None,
                    cidr_ipv6=cidr if family == "ipv6" else None,
                    description=f"Clients on port {port} ({family})",
                    tags=name_tag(self.name_prefix, "alb-in", port, family),
                    opts=pulumi.ResourceOptions(parent=self.parent),
                )
        return group

    def backends_from(
        self, backends: Sequence[BackendAccess], *, client_group_id: pulumi.Input[str], client: str
    ) -> None:
        """Each backend's group (the data tier's, with no rules of its own) accepts its port from the client's group
        alone. The rule is the compute side's: the data tier is created first and must not depend on compute (that
        would be a cycle)."""
        names = [backend.name for backend in backends]
        if len(set(names)) != len(names):
            raise ValueError(f"backend names must be unique: {names}")
        for backend in backends:
            self.ingress(
                backend.name,
                f"in-{client}",
                group_id=backend.security_group_id,
                source_group_id=client_group_id,
                port=backend.port,
                description=backend.description,
            )
