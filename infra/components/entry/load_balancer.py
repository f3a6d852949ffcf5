"""The public entry: an Application Load Balancer in the public subnets, its listeners, the app's target group,
the TLS certificate and the API's DNS name, and the bucket its access logs go to.

With a domain: HTTPS on 443 with a TLS 1.3 policy and an ACM certificate, HTTP on 80 redirecting to it, and an
alias record for the domain. Without one (development only; the config refuses it in production): plain HTTP
on the ALB's own DNS name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.entry.alb_access_logs import AccessLogBucketArgs, access_log_bucket
from infra.components.entry.certificate import validated_certificate
from infra.planning.compute.alb_logs import ACCESS_LOG_PREFIX
from infra.planning.compute.health_check import (
    ALB_IDLE_TIMEOUT_SECONDS,
    DEREGISTRATION_DELAY_SECONDS,
    HEALTH_CHECK_INTERVAL_SECONDS,
    HEALTH_CHECK_MATCHER,
    HEALTH_CHECK_PATH,
    HEALTH_CHECK_TIMEOUT_SECONDS,
    HEALTHY_THRESHOLD,
    SLOW_START_SECONDS,
    UNHEALTHY_THRESHOLD,
)
from infra.planning.naming import child_name, name_tag
from infra.planning.protection import Protection

# AWS's recommended policy (2025-09): TLS 1.3 and TLS 1.2 with forward-secret AES-GCM ciphers only, and hybrid
# post-quantum key exchange for clients that offer it.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
HTTP_PORT = 80
HTTPS_PORT = 443


def listener_ports(*, https: bool) -> tuple[int, ...]:
    return (HTTP_PORT, HTTPS_PORT) if https else (HTTP_PORT,)


@dataclass(frozen=True)
class LoadBalancerArgs:
    name_prefix: str
    region: str
    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    app_port: int
    domain: str
    """Empty: plain HTTP on the ALB's name (development only)."""
    hosted_zone_id: str
    access_log_retention_days: int
    guard: Protection
    """Production: deletion protection on the ALB, its access logs kept."""
    target_type: str = "instance"
    """`instance` (an Auto Scaling group registers its instances) or `ip` (EKS pods, registered by the load
    balancer controller through a TargetGroupBinding)."""


class LoadBalancer(pulumi.ComponentResource):
    url: pulumi.Output[str]
    arn: pulumi.Output[str]
    """The ALB's ARN: the web firewall associates with it."""
    dns_name: pulumi.Output[str]
    zone_id: pulumi.Output[str]
    arn_suffix: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    target_group_name: pulumi.Output[str]
    target_group_arn_suffix: pulumi.Output[str]
    forwarding_listener: aws.lb.Listener
    """The listener that sends traffic to the target group: the fleet and its scaling wait for it."""

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:load_balancer:LoadBalancer", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        if args.target_type not in ("instance", "ip"):
            raise ValueError(f"target_type '{args.target_type}': allowed: instance, ip")
        if len(args.public_subnet_ids) < 2:
            raise ValueError("an Application Load Balancer needs public subnets in at least two AZs")
        logs = access_log_bucket(
            self,
            name,
            AccessLogBucketArgs(
                name_prefix=args.name_prefix,
                region=args.region,
                retention_days=args.access_log_retention_days,
                guard=args.guard,
            ),
        )
        alb = aws.lb.LoadBalancer(
            child_name(name, "alb"),
            load_balancer_type="application",
            internal=False,
            # IPv4 and IPv6 clients: the public subnets are dual-stack; targets are still reached over IPv4.
            ip_address_type="dualstack",
            subnets=list(args.public_subnet_ids),
            security_groups=[args.security_group_id],
            # Requests with header names that are not valid HTTP are dropped, not passed to the app (smuggling).
            drop_invalid_header_fields=True,
            desync_mitigation_mode="defensive",
            # The app takes its client (rate limits, access lines) from the LAST X-Forwarded-For entry, the one the
            # ALB appends: `append`, AWS's default, set so the contract cannot drift (app/core/client_address.py).
            xff_header_processing_mode="append",
            enable_deletion_protection=args.guard.deletion_protection,
            # Shorter than gunicorn's keep-alive (75 s), so the ALB, never the app, closes idle connections.
            idle_timeout=ALB_IDLE_TIMEOUT_SECONDS,
            # HTTP/2 to clients (multiplexed, cheaper TLS); the ALB speaks HTTP/1.1 to the targets.
            enable_http2=True,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(
                bucket=logs.bucket.bucket, prefix=ACCESS_LOG_PREFIX, enabled=True
            ),
            tags=name_tag(args.name_prefix, "alb"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs.policy]),
        )
        target_group = aws.lb.TargetGroup(
            child_name(name, "app-tg"),
            target_type=args.target_type,
            port=args.app_port,
            protocol="HTTP",
            protocol_version="HTTP1",
            vpc_id=args.vpc_id,
            # Round robin, because slow start (below) does not work with least-outstanding-requests routing.
            load_balancing_algorithm_type="round_robin",
            slow_start=SLOW_START_SECONDS,
            deregistration_delay=DEREGISTRATION_DELAY_SECONDS,
            # Timings and their reasons: infra/planning/health_check.py.
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                protocol="HTTP",
                port="traffic-port",
                path=HEALTH_CHECK_PATH,
                matcher=HEALTH_CHECK_MATCHER,
                interval=HEALTH_CHECK_INTERVAL_SECONDS,
                timeout=HEALTH_CHECK_TIMEOUT_SECONDS,
                healthy_threshold=HEALTHY_THRESHOLD,
                unhealthy_threshold=UNHEALTHY_THRESHOLD,
            ),
            tags=name_tag(args.name_prefix, "app-tg"),
            opts=child,
        )
        forward = aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)
        if args.domain:
            self.forwarding_listener = self._https_listeners(alb, forward)
            self._alias_record(alb)
            self.url = pulumi.Output.from_input(f"https://{args.domain}")
        else:
            self.forwarding_listener = aws.lb.Listener(
                child_name(name, "http"),
                load_balancer_arn=alb.arn,
                port=HTTP_PORT,
                protocol="HTTP",
                default_actions=[forward],
                tags=name_tag(args.name_prefix, "alb-http"),
                opts=child,
            )
            self.url = alb.dns_name.apply(lambda dns: f"http://{dns}")

        self.arn = alb.arn
        self.dns_name = alb.dns_name
        self.zone_id = alb.zone_id
        self.arn_suffix = alb.arn_suffix
        self.target_group_arn = target_group.arn
        self.target_group_name = target_group.name
        self.target_group_arn_suffix = target_group.arn_suffix
        self.register_outputs(
            {
                "url": self.url,
                "dnsName": self.dns_name,
                "targetGroupArn": self.target_group_arn,
                "targetGroupName": self.target_group_name,
            }
        )

    def _https_listeners(self, alb: aws.lb.LoadBalancer, forward: aws.lb.ListenerDefaultActionArgs) -> aws.lb.Listener:
        args = self._args
        certificate_arn = validated_certificate(
            self, self._name, name_prefix=args.name_prefix, domain=args.domain, hosted_zone_id=args.hosted_zone_id
        )
        https = aws.lb.Listener(
            child_name(self._name, "https"),
            load_balancer_arn=alb.arn,
            port=HTTPS_PORT,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=certificate_arn,
            default_actions=[forward],
            tags=name_tag(args.name_prefix, "alb-https"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.lb.Listener(
            child_name(self._name, "http-redirect"),
            load_balancer_arn=alb.arn,
            port=HTTP_PORT,
            protocol="HTTP",
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        protocol="HTTPS", port=str(HTTPS_PORT), status_code="HTTP_301"
                    ),
                )
            ],
            tags=name_tag(args.name_prefix, "alb-http-redirect"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return https

    def _alias_record(self, alb: aws.lb.LoadBalancer) -> None:
        # The ALB is dual-stack: an A alias for IPv4 clients and an AAAA alias for IPv6 ones, or they never
        # learn its IPv6 addresses.
        for record_type, suffix in (("A", "alias"), ("AAAA", "alias-aaaa")):
            aws.route53.Record(
                child_name(self._name, suffix),
                zone_id=self._args.hosted_zone_id,
                name=self._args.domain,
                type=record_type,
                aliases=[
                    aws.route53.RecordAliasArgs(name=alb.dns_name, zone_id=alb.zone_id, evaluate_target_health=True)
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
