"""The operations and edge-security half of a stack, wired from its config: where alerts go (built first, so the
fleet's deploy alarms can notify it), the firewall in front of CloudFront (before the data tier's distribution,
which names it), then, once the entry and the fleet exist, the firewall on the load balancer, the alarms and the
dashboard, the budget and the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.audit.audit_trail import AuditTrail, AuditTrailArgs
from infra.components.data.cache import Cache
from infra.components.edge.web_firewall import CLOUDFRONT, REGIONAL, WebFirewall, WebFirewallArgs
from infra.components.entry.load_balancer import LoadBalancer
from infra.components.network import Network
from infra.components.operations.alert_routing import AlertRouting, AlertRoutingArgs
from infra.components.operations.budget import CostBudget, CostBudgetArgs
from infra.components.operations.monitoring import Monitoring, MonitoringArgs, WebAclRef
from infra.config import StackConfig
from infra.planning.operations.alarms import Ec2Fleet, EksFleet, LoadBalancerTarget
from infra.planning.protection import protection_for

CLOUDFRONT_REGION = "us-east-1"


def _prefix(config: StackConfig) -> str:
    return f"{config.project}-{config.stack}"


def build_alert_routing(config: StackConfig, opts: pulumi.ResourceOptions) -> AlertRouting:
    return AlertRouting(
        "alerts",
        AlertRoutingArgs(
            name_prefix=_prefix(config),
            region=config.region,
            alert_email=config.alert_email,
            https_endpoints=config.operations.alert_https_endpoint_list,
            guard=protection_for(config.is_production),
        ),
        opts=opts,
    )


def build_cdn_firewall(config: StackConfig, us_east_1: aws.Provider | None) -> WebFirewall | None:
    """The CLOUDFRONT web ACL, in us-east-1, when the stack has a CDN; None otherwise."""
    if not config.files.cdn_enabled:
        return None
    if us_east_1 is None:
        raise pulumi.RunError("a CDN's web ACL needs an AWS provider in us-east-1 (CLOUDFRONT scope lives there)")
    return WebFirewall(
        "cdn-firewall",
        WebFirewallArgs(
            name_prefix=_prefix(config),
            label="cdn",
            scope=CLOUDFRONT,
            region=CLOUDFRONT_REGION,
            settings=config.firewall,
            log_retention_days=config.log_retention_days,
            guard=protection_for(config.is_production),
        ),
        opts=pulumi.ResourceOptions(providers=[us_east_1]),
    )


@dataclass(frozen=True)
class Operations:
    alb_firewall: WebFirewall
    monitoring: Monitoring
    budget: CostBudget
    audit_trail: AuditTrail | None


def build_operations(
    config: StackConfig,
    *,
    network: Network,
    alerts: AlertRouting,
    load_balancer: LoadBalancer,
    fleet: Ec2Fleet | EksFleet,
    healthy_minimum: int,
    cache: Cache | None,
    cdn_firewall: WebFirewall | None,
    other_alarms: Sequence[aws.cloudwatch.MetricAlarm] = (),
    app_namespace: str = "",
    opts: pulumi.ResourceOptions,
) -> Operations:
    """`healthy_minimum`: the instances (tiers A and C) or pods (tier B) the target group must hold."""
    name_prefix = _prefix(config)
    guard = protection_for(config.is_production)
    alb_firewall = WebFirewall(
        "alb-firewall",
        WebFirewallArgs(
            name_prefix=name_prefix,
            label="alb",
            scope=REGIONAL,
            region=config.region,
            settings=config.firewall,
            log_retention_days=config.log_retention_days,
            guard=guard,
            protected_resource_arn=load_balancer.arn,
        ),
        opts=opts,
    )
    web_acls = [WebAclRef(alb_firewall.web_acl_name, "load balancer", cloudfront=False)]
    if cdn_firewall is not None:
        web_acls.append(WebAclRef(cdn_firewall.web_acl_name, "CDN", cloudfront=True))
    monitoring = Monitoring(
        "monitoring",
        MonitoringArgs(
            name_prefix=name_prefix,
            region=config.region,
            alarm_actions=[alerts.topic_arn],
            thresholds=config.alarms,
            traffic=LoadBalancerTarget(load_balancer.arn_suffix, load_balancer.target_group_arn_suffix),
            fleet=fleet,
            healthy_minimum=healthy_minimum,
            app_namespace=app_namespace,
            cache_nodes=cache.node_ids if cache is not None else (),
            cache_has_replica=cache is not None and cache.has_replica,
            nat_gateway_ids=network.nat_gateway_ids,
            web_acls=web_acls,
            other_alarms=other_alarms,
            # The jobs' queue alarms on every tier: EC2 hosts and tier B's Deployment export the same metrics.
            jobs=config.jobs,
            stack=config.stack,
        ),
        opts=opts,
    )
    budget = CostBudget(
        "budget",
        CostBudgetArgs(
            name_prefix=name_prefix,
            stack=config.stack,
            monthly_budget_usd=config.monthly_budget_usd,
            alert_topic_arn=alerts.topic_arn,
        ),
        opts=opts,
    )
    audit_trail = None
    if config.audit_trail_enabled:
        audit_trail = AuditTrail(
            "audit-trail",
            AuditTrailArgs(
                name_prefix=name_prefix,
                region=config.region,
                retention_days=config.log_retention_days,
                guard=guard,
            ),
            opts=opts,
        )
    return Operations(alb_firewall=alb_firewall, monitoring=monitoring, budget=budget, audit_trail=audit_trail)
