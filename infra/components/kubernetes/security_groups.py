"""Tier B's security group rules: internet -> ALB -> pods -> backends.

Only the load balancer's group is open to the internet, on its listener ports. The pods carry the cluster
security group (the VPC CNI gives them addresses on the nodes' interfaces): it accepts the app port from the
load balancer's group, and each backend's group (the data tier's) accepts its port from it. Pulumi owns these
rules, not the load balancer controller (the TargetGroupBinding has no `networking` block), so they are in the
plan where the policy rules see them. Rules are separate resources, never inline blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.compute.security_groups import ANYWHERE_IPV4, ANYWHERE_IPV6, BackendAccess
from infra.planning.naming import child_name, name_tag


@dataclass(frozen=True)
class EntrySecurityGroupsArgs:
    name_prefix: str
    vpc_id: pulumi.Input[str]
    pod_security_group_id: pulumi.Input[str]
    """The cluster security group: nodes and pods."""
    app_port: int
    listener_ports: Sequence[int]
    backends: Sequence[BackendAccess]


class EntrySecurityGroups(pulumi.ComponentResource):
    load_balancer_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: EntrySecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:kubernetes:EntrySecurityGroups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        alb = aws.ec2.SecurityGroup(
            child_name(name, "alb"),
            vpc_id=args.vpc_id,
            description="Load balancer: HTTP(S) from the internet, to the app pods port only",
            tags=name_tag(args.name_prefix, "alb"),
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
            child_name(name, "alb-out-pods"),
            security_group_id=alb.id,
            referenced_security_group_id=args.pod_security_group_id,
            ip_protocol="tcp",
            from_port=args.app_port,
            to_port=args.app_port,
            description="Forward requests and health checks to the app pods port",
            tags=name_tag(args.name_prefix, "alb-out-pods"),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            child_name(name, "pods-in-alb"),
            security_group_id=args.pod_security_group_id,
            referenced_security_group_id=alb.id,
            ip_protocol="tcp",
            from_port=args.app_port,
            to_port=args.app_port,
            description="Requests and health checks from the load balancer to the app pods",
            tags=name_tag(args.name_prefix, "pods-in-alb"),
            opts=child,
        )
        names = [backend.name for backend in args.backends]
        if len(set(names)) != len(names):
            raise ValueError(f"backend names must be unique: {names}")
        for backend in args.backends:
            # The backend's group is the data tier's; the rule is ours (the data tier must not depend on compute).
            # Pods reach it through the cluster group's egress, which EKS leaves open.
            aws.vpc.SecurityGroupIngressRule(
                child_name(name, backend.name, "in-pods"),
                security_group_id=backend.security_group_id,
                referenced_security_group_id=args.pod_security_group_id,
                ip_protocol="tcp",
                from_port=backend.port,
                to_port=backend.port,
                description=backend.description,
                tags=name_tag(args.name_prefix, backend.name, "in-pods"),
                opts=child,
            )
        self.load_balancer_security_group_id = alb.id
        self.register_outputs({"loadBalancerSecurityGroupId": self.load_balancer_security_group_id})
