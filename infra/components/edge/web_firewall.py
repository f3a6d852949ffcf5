"""A WAFv2 web ACL in front of one entry point: the load balancer (scope REGIONAL, associated with it) or the
CloudFront distribution (scope CLOUDFRONT, which exists only in us-east-1: build this component with the
us-east-1 provider; the distribution takes the ACL's ARN as its web_acl_id).

Its rules (infra/planning/edge/waf.py): AWS's IP reputation list, a rate limit per client IP, the common rule set
(its 8 KB body rule only counted) and known bad inputs, then oversized bodies refused outside the listed paths.
Its logs go to a CloudWatch log group named `aws-waf-logs-...` (the only names WAF writes to), only what a rule
refused or counted, with the Authorization header and cookies redacted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config.model import FirewallSettings
from infra.planning.edge.waf import (
    log_delivery_policy,
    log_group_name,
    logging_filter,
    redacted_fields,
    web_acl_rules,
)
from infra.planning.naming import child_name, name_tag
from infra.planning.protection import Protection

REGIONAL = "REGIONAL"
CLOUDFRONT = "CLOUDFRONT"


@dataclass(frozen=True)
class WebFirewallArgs:
    name_prefix: str
    label: str
    """`alb` or `cdn`: in the ACL's name, its metrics and its log group."""
    scope: str
    region: str
    """Where the ACL lives: the stack's region (REGIONAL), us-east-1 (CLOUDFRONT)."""
    settings: FirewallSettings
    log_retention_days: int
    guard: Protection
    """Production keeps the firewall's logs through a mistaken destroy, as it keeps the other logs."""
    protected_resource_arn: pulumi.Input[str] | None = None
    """REGIONAL: the load balancer to associate. CLOUDFRONT: None (the distribution names the ACL instead)."""

    def __post_init__(self) -> None:
        if self.scope not in (REGIONAL, CLOUDFRONT):
            raise ValueError(f"scope '{self.scope}': allowed: {REGIONAL}, {CLOUDFRONT}")
        if self.scope == CLOUDFRONT and self.region != "us-east-1":
            raise ValueError("a CLOUDFRONT web ACL exists only in us-east-1")
        if (self.scope == REGIONAL) != (self.protected_resource_arn is not None):
            raise ValueError("a REGIONAL web ACL is associated with a resource here; a CLOUDFRONT one is not")


class WebFirewall(pulumi.ComponentResource):
    web_acl_arn: pulumi.Output[str]
    web_acl_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: WebFirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:edge:WebFirewall", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        acl_name = f"{args.name_prefix}-{args.label}"
        settings = args.settings
        acl = aws.wafv2.WebAcl(
            child_name(name, "acl"),
            name=acl_name,
            description=f"{args.name_prefix}: managed rule groups and a rate limit per client IP ({args.label})",
            scope=args.scope,
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=web_acl_rules(
                mode=settings.mode,
                rate_limit=settings.rate_limit,
                rate_window_seconds=settings.rate_window_seconds,
                large_body_paths=settings.large_body_paths,
                metric_prefix=acl_name,
            ),
            visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=acl_name, sampled_requests_enabled=True
            ),
            tags=name_tag(args.name_prefix, "waf", args.label),
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            child_name(name, "logs"),
            name=log_group_name(args.name_prefix, args.label),
            retention_in_days=args.log_retention_days,
            tags=name_tag(args.name_prefix, "waf-logs", args.label),
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.guard.protect, retain_on_delete=args.guard.retain_on_delete
            ),
        )
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        delivery = aws.cloudwatch.LogResourcePolicy(
            child_name(name, "log-delivery"),
            policy_name=f"{acl_name}-waf-log-delivery",
            policy_document=pulumi.Output.all(log_group.arn, account_id).apply(
                lambda values: log_delivery_policy(log_group_arn=values[0], account_id=values[1], region=args.region)
            ),
            opts=child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            child_name(name, "logging"),
            resource_arn=acl.arn,
            log_destination_configs=[log_group.arn],
            redacted_fields=redacted_fields(),
            logging_filter=logging_filter(),
            # The delivery service may write only once the group's policy admits it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[delivery]),
        )
        if args.protected_resource_arn is not None:
            aws.wafv2.WebAclAssociation(
                child_name(name, "association"),
                resource_arn=args.protected_resource_arn,
                web_acl_arn=acl.arn,
                opts=child,
            )

        self.web_acl_arn = acl.arn
        self.web_acl_name = acl.name
        self.log_group_name = log_group.name
        self.register_outputs(
            {"webAclArn": self.web_acl_arn, "webAclName": self.web_acl_name, "logGroupName": self.log_group_name}
        )
