"""WAFv2 web ACLs: AWS's managed rule groups and a rate limit per client IP, logs with credentials redacted,
and, in production, rules that block rather than count."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infra.policy.model import Resource, Stack, get, items

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
REQUIRED_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)
REDACTED_HEADERS = ("authorization", "cookie")


def _managed_group(rule: Any) -> str | None:
    name = get(rule, "statement", "managedRuleGroupStatement", "name")
    vendor = get(rule, "statement", "managedRuleGroupStatement", "vendorName")
    return name if vendor == "AWS" and isinstance(name, str) else None


def _rate_rules(acl: Resource) -> list[Any]:
    return [r for r in items(acl.inputs, "rules") if get(r, "statement", "rateBasedStatement") is not None]


def managed_rules_and_rate_limit(acl: Resource) -> Iterator[str]:
    groups = {_managed_group(rule) for rule in items(acl.inputs, "rules")}
    missing = [group for group in REQUIRED_GROUPS if group not in groups]
    if missing:
        yield (
            f"{acl.name} lacks AWS's managed rule groups {', '.join(missing)}: add each as a rule with a "
            "managed_rule_group_statement (vendor AWS)"
        )
    if not any(get(r, "statement", "rateBasedStatement", "aggregateKeyType") == "IP" for r in _rate_rules(acl)):
        yield (
            f"{acl.name} has no rate limit per client IP: add a rule with a rate_based_statement, aggregate_key_type "
            "IP and a limit (wafRateLimit)"
        )


def blocks_in_production(acl: Resource) -> Iterator[str]:
    counting = [
        str(get(rule, "name"))
        for rule in items(acl.inputs, "rules")
        if get(rule, "overrideAction", "count") is not None or get(rule, "action", "count") is not None
    ]
    if counting:
        yield (
            f"{acl.name} only counts what {', '.join(counting)} match: production blocks (remove wafMode count from "
            "the stack's config)"
        )


def logs_without_credentials(acl: Resource, stack: Stack) -> Iterator[str]:
    configurations = stack.referencing(acl, (LOGGING,), ("resourceArn",))
    if not configurations:
        yield (
            f"{acl.name} keeps no logs: add aws.wafv2.WebAclLoggingConfiguration with a log group named "
            "aws-waf-logs-..., redacting the authorization and cookie headers"
        )
        return
    for configuration in configurations:
        redacted = {
            str(get(field, "singleHeader", "name")).lower()
            for field in items(configuration.inputs, "redactedFields")
            if get(field, "singleHeader", "name") is not None
        }
        missing = [header for header in REDACTED_HEADERS if header not in redacted]
        if missing:
            yield (
                f"{acl.name}'s logs would record the {' and '.join(missing)} header(s) in plain text (bearer tokens, "
                f"session cookies): redact them in {configuration.name}'s redacted_fields (single_header)"
            )
