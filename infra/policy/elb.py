"""Application load balancers: strict header parsing, TLS 1.3 policies, HTTP only as a redirect to HTTPS,
access logs, deletion protection in production, health-checked targets."""

from __future__ import annotations

from collections.abc import Iterator

from infra.policy.model import Resource, Stack, get, items, present

LOAD_BALANCER_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENER_TYPES = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
TARGET_GROUP_TYPES = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"

TLS13_POLICY_PREFIX = "ELBSecurityPolicy-TLS13-"
"""AWS's TLS 1.3 policies (TLS 1.3 and 1.2 with forward secrecy only; FIPS and post-quantum variants included)."""
SECURE_LISTENER_PROTOCOLS = ("HTTPS", "TLS")


def _is_application(balancer: Resource) -> bool:
    return get(balancer.inputs, "loadBalancerType") in (None, "application")


def _listeners_of(balancer: Resource, stack: Stack) -> list[Resource]:
    return stack.referencing(balancer, LISTENER_TYPES, ("loadBalancerArn",))


def drops_invalid_headers(balancer: Resource) -> Iterator[str]:
    if _is_application(balancer) and get(balancer.inputs, "dropInvalidHeaderFields") is not True:
        yield (
            f"{balancer.name} forwards requests with invalid header fields: set drop_invalid_header_fields=True "
            "(request smuggling and header injection rely on them)"
        )


def tls13_policy(listener: Resource) -> Iterator[str]:
    if get(listener.inputs, "protocol") not in SECURE_LISTENER_PROTOCOLS:
        return
    policy = get(listener.inputs, "sslPolicy")
    if not (isinstance(policy, str) and policy.startswith(TLS13_POLICY_PREFIX)):
        yield (
            f"{listener.name} negotiates with {policy or 'the default policy (TLS 1.0 and up)'}: set ssl_policy to a "
            "TLS 1.3 policy such as ELBSecurityPolicy-TLS13-1-2-2021-06"
        )


def http_redirects_to_https(listener: Resource, stack: Stack) -> Iterator[str]:
    if get(listener.inputs, "protocol") != "HTTP":
        return
    balancers = stack.referenced(listener, ("loadBalancerArn",), LOAD_BALANCER_TYPES)
    siblings = [sibling for balancer in balancers for sibling in _listeners_of(balancer, stack)]
    serves_https = any(get(sibling.inputs, "protocol") == "HTTPS" for sibling in siblings)
    if not serves_https:
        return  # no certificate yet (a development stack without a domain): plain HTTP is all there is
    actions = items(listener.inputs, "defaultActions")
    redirects = [
        action
        for action in actions
        if get(action, "type") == "redirect" and get(action, "redirect", "protocol") == "HTTPS"
    ]
    if not redirects or len(actions) != len(redirects):
        yield (
            f"{listener.name} serves plain HTTP although its load balancer has an HTTPS listener: make its default "
            "action a redirect to HTTPS (protocol HTTPS, port 443, HTTP_301)"
        )


def serves_https_in_production(balancer: Resource, stack: Stack) -> Iterator[str]:
    if not _is_application(balancer):
        return
    if not any(get(listener.inputs, "protocol") == "HTTPS" for listener in _listeners_of(balancer, stack)):
        yield (
            f"{balancer.name} has no HTTPS listener in production: set the stack's domain and hostedZoneId so it "
            "gets a certificate and an HTTPS listener"
        )


def access_logs(balancer: Resource) -> Iterator[str]:
    if get(balancer.inputs, "accessLogs", "enabled") is not True or not present(
        balancer.inputs, "accessLogs", "bucket"
    ):
        yield (
            f"{balancer.name} keeps no access logs: set access_logs (bucket, enabled=True) to a private bucket the "
            "region's load balancing service may write to"
        )


def deletion_protection(balancer: Resource) -> Iterator[str]:
    if get(balancer.inputs, "enableDeletionProtection") is not True:
        yield (
            f"{balancer.name} can be deleted by a stray destroy or replace: set enable_deletion_protection=True "
            "in production"
        )


def web_acl_attached(balancer: Resource, stack: Stack) -> Iterator[str]:
    if get(balancer.inputs, "internal") is True or not _is_application(balancer):
        return
    if not stack.referencing(balancer, (WAF_ASSOCIATION,), ("resourceArn",)):
        yield (
            f"{balancer.name} faces the internet without a web application firewall: associate a WAFv2 web ACL "
            "(aws.wafv2.WebAclAssociation) with AWS managed rule groups and a rate limit"
        )


def target_group_health_check(group: Resource) -> Iterator[str]:
    if get(group.inputs, "targetType") == "lambda":
        return
    check = get(group.inputs, "healthCheck")
    if check is None or get(check, "enabled") is False:
        yield f"{group.name} has no health check: set health_check (enabled, path, matcher, thresholds)"
        return
    protocol = get(check, "protocol") or get(group.inputs, "protocol") or "HTTP"
    if protocol in ("HTTP", "HTTPS") and not get(check, "path"):
        yield (
            f"{group.name}'s health check has no path, so it probes / : set health_check path to the app's cheap "
            "health endpoint (/api/health)"
        )
