"""The web tier's security groups and every rule between them: internet -> ALB -> app -> backends.

Only the load balancer's group is open to the internet, and only on its listener ports. The app's group
accepts the app port from the load balancer's group alone; each backend's group (created by the data tier,
with no rules of its own) accepts its port from the app's group alone. Rules are separate resources, never
inline blocks, so adding one never rewrites (and briefly drops) the others.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

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
class CidrEgress:
    """Egress from the app to addresses outside the VPC's security groups (AWS APIs, MongoDB Atlas)."""

    name: str
    cidr_ipv4: str
    from_port: int
    to_port: int
    description: str


@dataclass(frozen=True)
class WebSecurityGroupsArgs:
    name_prefix: str
    vpc_id: pulumi.Input[str]
    app_port: int
    listener_ports: Sequence[int]
    """The ALB's listener ports: 80 and 443 with HTTPS, 80 alone without a domain."""
    backends: Sequence[BackendAccess]
    egress: Sequence[CidrEgress]


class WebSecurityGroups(pulumi.ComponentResource):
    load_balancer_security_group_id: pulumi.Output[str]
    app_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: WebSecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:security_groups:WebSecurityGroups", name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        alb = aws.ec2.SecurityGroup(
            child_name(name, "alb"),
            vpc_id=args.vpc_id,
            description="Load balancer: HTTP(S) from the internet, to the app port only",
            tags=name_tag(args.name_prefix, "alb"),
            opts=child,
        )
        app = aws.ec2.SecurityGroup(
            child_name(name, "app"),
            vpc_id=args.vpc_id,
            description="App instances: the app port from the load balancer only",
            tags=name_tag(args.name_prefix, "app"),
            opts=child,
        )

        for port in sorted(set(args.listener_ports)):
            for family, cidr in (("ipv4", ANYWHERE_IPV4), ("ipv6", ANYWHERE_IPV6)):
                aws.vpc.SecurityGroupIngressRule(
                    child_name(name, "alb-in", port, family),
                    security_group_id=alb.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr if family == "ipv4" else None,
                    cidr_ipv6=cidr if family == "ipv6" else None,
                    description=f"Clients on port {port} ({family})",
                    tags=name_tag(args.name_prefix, "alb-in", port, family),
                    opts=child,
                )
        aws.vpc.SecurityGroupEgressRule(
            child_name(name, "alb-out-app"),
            security_group_id=alb.id,
            referenced_security_group_id=app.id,
            ip_protocol="tcp",
            from_port=args.app_port,
            to_port=args.app_port,
            description="Forward requests and health checks to the app port",
            tags=name_tag(args.name_prefix, "alb-out-app"),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            child_name(name, "app-in-alb"),
            security_group_id=app.id,
            referenced_security_group_id=alb.id,
            ip_protocol="tcp",
            from_port=args.app_port,
            to_port=args.app_port,
            description="Requests and health checks from the load balancer",
            tags=name_tag(args.name_prefix, "app-in-alb"),
            opts=child,
        )
        for rule in args.egress:
            aws.vpc.SecurityGroupEgressRule(
                child_name(name, "app-out", rule.name),
                security_group_id=app.id,
                ip_protocol="tcp",
                from_port=rule.from_port,
                to_port=rule.to_port,
                cidr_ipv4=rule.cidr_ipv4,
                description=rule.description,
                tags=name_tag(args.name_prefix, "app-out", rule.name),
                opts=child,
            )
        self._backends(args, app)

        self.load_balancer_security_group_id = alb.id
        self.app_security_group_id = app.id
        self.register_outputs(
            {
                "loadBalancerSecurityGroupId": self.load_balancer_security_group_id,
                "appSecurityGroupId": self.app_security_group_id,
            }
        )

    def _backends(self, args: WebSecurityGroupsArgs, app: aws.ec2.SecurityGroup) -> None:
        child = pulumi.ResourceOptions(parent=self)
        names = [backend.name for backend in args.backends]
        if len(set(names)) != len(names):
            raise ValueError(f"backend names must be unique: {names}")
        for backend in args.backends:
            # The backend's group is the data tier's; the rule is ours, because the data tier is created first
            # and must not depend on compute (that would be a cycle).
            aws.vpc.SecurityGroupIngressRule(
                child_name(self._name, backend.name, "in-app"),
                security_group_id=backend.security_group_id,
                referenced_security_group_id=app.id,
                ip_protocol="tcp",
                from_port=backend.port,
                to_port=backend.port,
                description=backend.description,
                tags=name_tag(args.name_prefix, backend.name, "in-app"),
                opts=child,
            )
            aws.vpc.SecurityGroupEgressRule(
                child_name(self._name, "app-out", backend.name),
                security_group_id=app.id,
                referenced_security_group_id=backend.security_group_id,
                ip_protocol="tcp",
                from_port=backend.port,
                to_port=backend.port,
                description=backend.description,
                tags=name_tag(args.name_prefix, "app-out", backend.name),
                opts=child,
            )
