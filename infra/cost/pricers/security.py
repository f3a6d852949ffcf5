"""WAF web ACLs, KMS keys, Secrets Manager secrets; certificates and IAM cost nothing."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from infra.cost.model import Category, Kind
from infra.cost.pricing import Bill, PricerSpec, UsageKey

WAF_REQUESTS = UsageKey("requests", "requests/month", "Requests the web ACL inspects")
KMS_REQUESTS = UsageKey("requests", "requests/month", "Encrypt, decrypt and data-key requests to the key")
SECRET_CALLS = UsageKey("apiRequests", "requests/month", "GetSecretValue and other API calls for the secret")

# Managed rule groups AWS bills on top of the rule fee (subscription plus per-request charges).
_PREMIUM_RULE_GROUPS = ("AWSManagedRulesBotControlRuleSet", "AWSManagedRulesATPRuleSet", "AWSManagedRulesACFPRuleSet")


def _web_acl(bill: Bill) -> None:
    bill.add("Web ACL", Decimal(1), "waf.web-acl")
    rules = [r for r in bill.resource.get("rules", default=[]) if isinstance(r, Mapping)]
    if rules:
        bill.add(f"Rules and rule groups ({len(rules)})", Decimal(len(rules)), "waf.rule")
    for rule in rules:
        managed = rule.get("statement", {}).get("managedRuleGroupStatement", {})
        if isinstance(managed, Mapping) and managed.get("name") in _PREMIUM_RULE_GROUPS:
            bill.missing(f"rule group {managed['name']}: its subscription and request fees are not in the table")
    requests = bill.usage(WAF_REQUESTS.name)
    if requests is not None:
        bill.add("Requests inspected", requests / Decimal(1_000_000), "waf.requests", kind=Kind.USAGE)


def _kms_key(bill: Bill) -> None:
    bill.add("Customer managed key", Decimal(1), "kms.key")
    requests = bill.usage(KMS_REQUESTS.name)
    if requests is not None:
        bill.add("Requests", requests / Decimal(10_000), "kms.requests", kind=Kind.USAGE)


def _secret(bill: Bill) -> None:
    bill.add("Secret", Decimal(1), "secretsmanager.secret")
    calls = bill.usage(SECRET_CALLS.name)
    if calls is not None:
        bill.add("API requests", calls / Decimal(10_000), "secretsmanager.api", kind=Kind.USAGE)


PRICERS = {
    "aws:wafv2/webAcl:WebAcl": PricerSpec(_web_acl, Category.SECURITY, (WAF_REQUESTS,)),
    "aws:kms/key:Key": PricerSpec(_kms_key, Category.SECURITY, (KMS_REQUESTS,)),
    "aws:secretsmanager/secret:Secret": PricerSpec(_secret, Category.SECURITY, (SECRET_CALLS,)),
}

FREE = {
    "aws:wafv2/webAclAssociation:WebAclAssociation": "no charge",
    "aws:wafv2/ipSet:IpSet": "no charge",
    "aws:wafv2/regexPatternSet:RegexPatternSet": "no charge",
    "aws:wafv2/ruleGroup:RuleGroup": "counted as a rule of the web ACL that uses it",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "the logs are billed where they land",
    "aws:kms/alias:Alias": "no charge",
    "aws:secretsmanager/secretVersion:SecretVersion": "part of the secret's price",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "no charge",
    "aws:secretsmanager/secretRotation:SecretRotation": "no charge (the rotation function is billed apart)",
    "aws:acm/certificate:Certificate": "public ACM certificates cost nothing",
    "aws:acm/certificateValidation:CertificateValidation": "no charge",
}
