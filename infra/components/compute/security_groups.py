"""The web tier's security groups and every rule between them (tiers A and C): internet -> ALB -> app -> backends.

Only the load balancer's group is open to the internet, and only on its listener ports. The app's group
accepts the app port from the load balancer's group alone; each backend's group (created by the data tier,
with no rules of its own) accepts its port from the app's group alone. The shared pieces, and how every rule is
written, are in infra/components/entry/security_group_rules.py (tier B builds from them too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.entry.security_group_rules import BackendAccess, GroupRules
from infra.planning.naming import child_name, name_tag


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
        child = pulumi.ResourceOptions(parent=self)
        rules = GroupRules(self, name, args.name_prefix)
        alb = rules.public_load_balancer_group(
            vpc_id=args.vpc_id,
            listener_ports=args.listener_ports,
            description="Load balancer: HTTP(S) from the internet, to the app port only",
        )
        app = aws.ec2.SecurityGroup(
            child_name(name, "app"),
            vpc_id=args.vpc_id,
            description="App instances: the app port from the load balancer only",
            tags=name_tag(args.name_prefix, "app"),
            opts=child,
        )
        rules.egress(
            "alb-out-app",
            group_id=alb.id,
            target_group_id=app.id,
            port=args.app_port,
            description="Forward requests and health checks to the app port",
        )
        rules.ingress(
            "app-in-alb",
            group_id=app.id,
            source_group_id=alb.id,
            port=args.app_port,
            description="Requests and health checks from the load balancer",
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
        rules.backends_from(args.backends, client_group_id=app.id, client="app")
        # The instances' group is closed by default (unlike EKS's cluster group): the way out to each backend too.
        for backend in args.backends:
            rules.egress(
                "app-out",
                backend.name,
                group_id=app.id,
                target_group_id=backend.security_group_id,
                port=backend.port,
                description=backend.description,
            )

        self.load_balancer_security_group_id = alb.id
        self.app_security_group_id = app.id
        self.register_outputs(
            {
                "loadBalancerSecurityGroupId": self.load_balancer_security_group_id,
                "appSecurityGroupId": self.app_security_group_id,
            }
        )
