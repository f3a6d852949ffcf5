"""The web ACLs' rules and logging, as data the provider takes (pulumi-aws 7 `wafv2.WebAcl` rules and
`wafv2.WebAclLoggingConfiguration`). The same rules guard the load balancer (REGIONAL) and CloudFront
(CLOUDFRONT, which exists only in us-east-1).

In order (lower priority runs first):
1. AWS's IP reputation list (25 WCU): known bad sources, refused before anything costlier runs;
2. a rate limit per client IP (`wafRateLimit` requests per `wafRateWindowSeconds`), answered 429;
3. AWS's common rule set (700 WCU), except its body-size rule, which is only counted (below);
4. AWS's known bad inputs (200 WCU: Log4Shell and other exploit payloads);
5. bodies over 8 KB refused (413) unless their path is one of `wafLargeBodyPaths`.

The common rule set's `SizeRestrictions_BODY` blocks any body over 8 KB, a fixed size (AWS WAF developer guide,
"Request body inspection"; repost.aws "waf-http-request-body-inspection"). Blocking it outright would refuse
every large upload through this entry; so the managed rule only counts, which labels the request, and rule 5
blocks the labelled requests outside the listed paths. This app's uploads go straight to S3 with presigned
POSTs, never through the load balancer or CloudFront, so no path needs the exception by default.

In count mode (`wafMode count`, development only) every rule only counts: nothing is refused, everything is
logged and graphed, so the rules can be tuned against real traffic before they block.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from infra.config.model import WafMode

if TYPE_CHECKING:  # the provider's typed dicts, for pyright only: this module builds plain data
    from pulumi_aws.wafv2 import (
        WebAclLoggingConfigurationLoggingFilterArgsDict,
        WebAclLoggingConfigurationRedactedFieldArgsDict,
        WebAclRuleActionArgsDict,
        WebAclRuleArgsDict,
        WebAclRuleStatementArgsDict,
        WebAclRuleStatementManagedRuleGroupStatementArgsDict,
        WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgsDict,
        WebAclRuleVisibilityConfigArgsDict,
    )

IP_REPUTATION: Final = "AWSManagedRulesAmazonIpReputationList"
COMMON_RULE_SET: Final = "AWSManagedRulesCommonRuleSet"
KNOWN_BAD_INPUTS: Final = "AWSManagedRulesKnownBadInputsRuleSet"
MANAGED_RULE_GROUPS: Final = (IP_REPUTATION, COMMON_RULE_SET, KNOWN_BAD_INPUTS)
BODY_SIZE_RULE: Final = "SizeRestrictions_BODY"
BODY_SIZE_LABEL: Final = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"
"""The label the common rule set adds when its body-size rule matches (AWS managed rules changelog)."""
RATE_LIMITED_STATUS: Final = 429
BODY_TOO_LARGE_STATUS: Final = 413

# Web ACL capacity units (AWS WAF developer guide: each managed group's capacity; "Rate-based rule statement"
# 2 WCU; "Label match" 1; "Regex match" 3). A web ACL gets 1,500 WCU in its base price, up to 5,000 billed extra
# (AWS what's-new 2023-04-11).
WCU: Final = {IP_REPUTATION: 25, COMMON_RULE_SET: 700, KNOWN_BAD_INPUTS: 200}
RATE_RULE_WCU: Final = 2
LABEL_MATCH_WCU: Final = 1
REGEX_MATCH_WCU: Final = 3
INCLUDED_WCU: Final = 1500

LOG_GROUP_PREFIX: Final = "aws-waf-logs-"
"""WAF logs only to destinations whose name starts with this (API reference, LoggingConfiguration)."""
REDACTED_HEADERS: Final = ("authorization", "cookie")
"""Bearer tokens and session cookies never reach the logs."""


def _visibility(metric_prefix: str, rule: str) -> WebAclRuleVisibilityConfigArgsDict:
    return {
        "cloudwatch_metrics_enabled": True,
        "metric_name": f"{metric_prefix}-{rule}",
        "sampled_requests_enabled": True,
    }


def _managed(
    name: str,
    priority: int,
    mode: WafMode,
    metric_prefix: str,
    overrides: Sequence[WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgsDict] = (),
) -> WebAclRuleArgsDict:
    slug = "aws-" + re.sub(r"(?<!^)(?=[A-Z])", "-", name.removeprefix("AWSManagedRules")).lower()
    statement: WebAclRuleStatementManagedRuleGroupStatementArgsDict = {"vendor_name": "AWS", "name": name}
    if overrides:
        statement["rule_action_overrides"] = list(overrides)
    return {
        "name": slug,
        "priority": priority,
        # A managed group's own actions stand (none), or every one of them only counts.
        "override_action": {"none": {}} if mode is WafMode.BLOCK else {"count": {}},
        "statement": {"managed_rule_group_statement": statement},
        "visibility_config": _visibility(metric_prefix, slug),
    }


def _act(mode: WafMode, status: int) -> WebAclRuleActionArgsDict:
    if mode is WafMode.COUNT:
        return {"count": {}}
    return {"block": {"custom_response": {"response_code": status}}}


def large_body_path_pattern(paths: Sequence[str]) -> str:
    """One anchored regular expression that matches a URI path starting with any of `paths`."""
    if not paths:
        raise ValueError("no path to match")
    return "^(?:" + "|".join(re.escape(path) for path in paths) + ")"


def _oversized_body_statement(large_body_paths: Sequence[str]) -> WebAclRuleStatementArgsDict:
    labelled: WebAclRuleStatementArgsDict = {"label_match_statement": {"scope": "LABEL", "key": BODY_SIZE_LABEL}}
    if not large_body_paths:
        return labelled
    allowed: WebAclRuleStatementArgsDict = {
        "regex_match_statement": {
            "regex_string": large_body_path_pattern(large_body_paths),
            "field_to_match": {"uri_path": {}},
            "text_transformations": [{"priority": 0, "type": "NONE"}],
        }
    }
    return {"and_statement": {"statements": [labelled, {"not_statement": {"statement": allowed}}]}}


def web_acl_rules(
    *,
    mode: WafMode,
    rate_limit: int,
    rate_window_seconds: int,
    large_body_paths: Sequence[str],
    metric_prefix: str,
) -> list[WebAclRuleArgsDict]:
    return [
        _managed(IP_REPUTATION, 0, mode, metric_prefix),
        {
            "name": "rate-limit-per-ip",
            "priority": 1,
            "action": _act(mode, RATE_LIMITED_STATUS),
            "statement": {
                "rate_based_statement": {
                    # The address the request came from (the load balancer and CloudFront see the client itself);
                    # never X-Forwarded-For, which a client writes.
                    "aggregate_key_type": "IP",
                    "limit": rate_limit,
                    "evaluation_window_sec": rate_window_seconds,
                }
            },
            "visibility_config": _visibility(metric_prefix, "rate-limit-per-ip"),
        },
        _managed(
            COMMON_RULE_SET,
            2,
            mode,
            metric_prefix,
            overrides=[{"name": BODY_SIZE_RULE, "action_to_use": {"count": {}}}],
        ),
        _managed(KNOWN_BAD_INPUTS, 3, mode, metric_prefix),
        {
            "name": "oversized-bodies",
            "priority": 4,
            "action": _act(mode, BODY_TOO_LARGE_STATUS),
            "statement": _oversized_body_statement(large_body_paths),
            "visibility_config": _visibility(metric_prefix, "oversized-bodies"),
        },
    ]


def capacity_units(rules: Sequence[Mapping[str, Any]]) -> int:
    """The web ACL's capacity, from the documented figures (what AWS's CheckCapacity would answer)."""

    def statement_units(statement: Mapping[str, Any]) -> int:
        if "managed_rule_group_statement" in statement:
            return WCU[statement["managed_rule_group_statement"]["name"]]
        if "rate_based_statement" in statement:
            return RATE_RULE_WCU
        if "label_match_statement" in statement:
            return LABEL_MATCH_WCU
        if "regex_match_statement" in statement:
            return REGEX_MATCH_WCU
        if "and_statement" in statement:
            return sum(statement_units(s) for s in statement["and_statement"]["statements"])
        if "not_statement" in statement:
            return statement_units(statement["not_statement"]["statement"])
        raise ValueError(f"no capacity figure for {sorted(statement)}")

    return sum(statement_units(rule["statement"]) for rule in rules)


def log_group_name(name_prefix: str, label: str) -> str:
    return f"{LOG_GROUP_PREFIX}{name_prefix}-{label}"


def redacted_fields() -> list[WebAclLoggingConfigurationRedactedFieldArgsDict]:
    return [{"single_header": {"name": header}} for header in REDACTED_HEADERS]


def logging_filter() -> WebAclLoggingConfigurationLoggingFilterArgsDict:
    """Only what a rule refused or counted: the load balancer's access logs already record every request, and
    logging all of them through WAF too would cost more than the firewall itself."""
    return {
        "default_behavior": "DROP",
        "filters": [
            {
                "behavior": "KEEP",
                "requirement": "MEETS_ANY",
                "conditions": [
                    {"action_condition": {"action": action}} for action in ("BLOCK", "COUNT", "EXCLUDED_AS_COUNT")
                ],
            }
        ],
    }


def log_delivery_policy(*, log_group_arn: str, account_id: str, region: str) -> str:
    """The log group's resource policy: AWS's log delivery service (which writes WAF's logs) may write into this
    group only, for this account only (the policy WAF would otherwise create account-wide, AWSWAF-LOGS, narrowed
    to the one group; AWS WAF developer guide, "Permissions to publish logs to Amazon CloudWatch Logs")."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "WafLogDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": "delivery.logs.amazonaws.com"},
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{log_group_arn}:log-stream:*",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account_id},
                        "ArnLike": {"aws:SourceArn": f"arn:aws:logs:{region}:{account_id}:*"},
                    },
                }
            ],
        },
        sort_keys=True,
    )
