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

from infra.components.entry.security_group_rules import BackendAccess, GroupRules


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
        rules = GroupRules(self, name, args.name_prefix)
        alb = rules.public_load_balancer_group(
            vpc_id=args.vpc_id,
            listener_ports=args.listener_ports,
            description="Load balancer: HTTP(S) from the internet, to the app pods port only",
        )
        rules.egress(
            "alb-out-pods",
            group_id=alb.id,
            target_group_id=args.pod_security_group_id,
            port=args.app_port,
            description="Forward requests and health checks to the app pods port",
        )
        rules.ingress(
            "pods-in-alb",
            group_id=args.pod_security_group_id,
            source_group_id=alb.id,
            port=args.app_port,
            description="Requests and health checks from the load balancer to the app pods",
        )
        # Pods reach each backend through the cluster group's egress, which EKS leaves open.
        rules.backends_from(args.backends, client_group_id=args.pod_security_group_id, client="pods")
        self.load_balancer_security_group_id = alb.id
        self.register_outputs({"loadBalancerSecurityGroupId": self.load_balancer_security_group_id})
