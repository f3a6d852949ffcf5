"""The public load balancer every compute tier builds the same way from the stack's config, in front of instances
(tiers A and C) or pods (tier B): one builder, so the tiers' load balancers cannot drift apart."""

from __future__ import annotations

import pulumi

from infra.components.entry.load_balancer import LoadBalancer, LoadBalancerArgs
from infra.components.network import Network
from infra.config import StackConfig
from infra.planning.compute.health_check import APP_PORT
from infra.planning.protection import protection_for


def public_load_balancer(
    config: StackConfig,
    network: Network,
    *,
    security_group_id: pulumi.Input[str],
    target_type: str,
    opts: pulumi.ResourceOptions,
) -> LoadBalancer:
    """`target_type`: `instance` for the EC2 fleet, `ip` for pods registered by the load balancer controller."""
    return LoadBalancer(
        "load-balancer",
        LoadBalancerArgs(
            name_prefix=f"{config.project}-{config.stack}",
            region=config.region,
            vpc_id=network.vpc_id,
            public_subnet_ids=network.public_subnet_ids,
            security_group_id=security_group_id,
            app_port=APP_PORT,
            domain=config.domain,
            hosted_zone_id=config.hosted_zone_id,
            access_log_retention_days=config.log_retention_days,
            guard=protection_for(config.is_production),
            target_type=target_type,
        ),
        opts=opts,
    )
