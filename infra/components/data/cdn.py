"""CloudFront in front of the uploads bucket: created by `Files`, as its children.

With a domain, files are served at `cdn.<domain>` with a DNS-validated ACM certificate (which CloudFront
requires in us-east-1) and TLS 1.2 or newer; without one, on CloudFront's own `*.cloudfront.net` name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config.model import CdnPriceClass
from infra.planning.naming import child_name, name_tag

# AWS-managed policies, looked up by name (their ids are global and fixed, but a lookup fails loudly if the
# name is wrong, where a pasted id would not).
CACHE_POLICY = "Managed-CachingOptimized"
RESPONSE_HEADERS_POLICY = "Managed-SecurityHeadersPolicy"  # HSTS, nosniff, frame options, referrer policy
MINIMUM_TLS = "TLSv1.2_2021"
ORIGIN_ID = "uploads"


@dataclass(frozen=True)
class CdnArgs:
    name_prefix: str
    domain: str
    hosted_zone_id: str
    price_class: CdnPriceClass
    certificate_provider: aws.Provider | None


@dataclass(frozen=True)
class Cdn:
    distribution_arn: pulumi.Output[str]
    domain: pulumi.Output[str]
    """What browsers use: `cdn.<domain>`, or the distribution's own name without a domain."""


def cdn_host(domain: str) -> str:
    return f"cdn.{domain}"


def create_cdn(
    parent: pulumi.Resource,
    name: str,
    args: CdnArgs,
    *,
    origin_domain: pulumi.Output[str],
    log_bucket_domain: pulumi.Output[str],
    log_prefix: str,
    depends_on: Sequence[pulumi.Resource],
) -> Cdn:
    child = pulumi.ResourceOptions(parent=parent)
    invoke = pulumi.InvokeOptions(parent=parent)
    cache_policy = aws.cloudfront.get_cache_policy(name=CACHE_POLICY, opts=invoke)
    headers_policy = aws.cloudfront.get_response_headers_policy(name=RESPONSE_HEADERS_POLICY, opts=invoke)

    access_control = aws.cloudfront.OriginAccessControl(
        child_name(name, "oac"),
        description=f"{args.name_prefix}: CloudFront reads the uploads bucket with signed requests",
        origin_access_control_origin_type="s3",
        signing_behavior="always",
        signing_protocol="sigv4",
        opts=child,
    )

    aliases: list[str] = []
    viewer_certificate: aws.cloudfront.DistributionViewerCertificateArgsDict = {"cloudfront_default_certificate": True}
    if args.domain:
        certificate_arn = _certificate(parent, name, args)
        aliases = [cdn_host(args.domain)]
        viewer_certificate = {
            "acm_certificate_arn": certificate_arn,
            "ssl_support_method": "sni-only",
            "minimum_protocol_version": MINIMUM_TLS,
        }

    distribution = aws.cloudfront.Distribution(
        child_name(name, "cdn"),
        comment=f"{args.name_prefix} uploads",
        enabled=True,
        is_ipv6_enabled=True,
        http_version="http2and3",
        price_class=args.price_class,
        aliases=aliases,
        origins=[
            {
                "domain_name": origin_domain,
                "origin_id": ORIGIN_ID,
                "origin_access_control_id": access_control.id,
            }
        ],
        default_cache_behavior={
            "target_origin_id": ORIGIN_ID,
            "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": ["GET", "HEAD", "OPTIONS"],  # read-only: uploads go to S3 directly
            "cached_methods": ["GET", "HEAD"],
            "compress": True,
            "cache_policy_id": cache_policy.id,
            "response_headers_policy_id": headers_policy.id,
        },
        restrictions={"geo_restriction": {"restriction_type": "none"}},
        viewer_certificate=viewer_certificate,
        logging_config={"bucket": log_bucket_domain, "prefix": log_prefix, "include_cookies": False},
        tags=name_tag(args.name_prefix, "cdn"),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )

    if not args.domain:
        return Cdn(distribution_arn=distribution.arn, domain=distribution.domain_name)

    for record_type in ("A", "AAAA"):
        aws.route53.Record(
            child_name(name, "cdn-alias", record_type.lower()),
            zone_id=args.hosted_zone_id,
            name=cdn_host(args.domain),
            type=record_type,
            aliases=[
                {
                    "name": distribution.domain_name,
                    "zone_id": distribution.hosted_zone_id,
                    "evaluate_target_health": False,
                }
            ],
            opts=child,
        )
    return Cdn(distribution_arn=distribution.arn, domain=pulumi.Output.from_input(cdn_host(args.domain)))


def _certificate(parent: pulumi.Resource, name: str, args: CdnArgs) -> pulumi.Output[str]:
    if args.certificate_provider is None:
        raise pulumi.RunError("a CDN with a domain needs an AWS provider in us-east-1 for its ACM certificate")
    in_us_east_1 = pulumi.ResourceOptions(parent=parent, provider=args.certificate_provider)
    certificate = aws.acm.Certificate(
        child_name(name, "cdn-cert"),
        domain_name=cdn_host(args.domain),
        validation_method="DNS",
        tags=name_tag(args.name_prefix, "cdn"),
        opts=in_us_east_1,
    )
    # One name on the certificate, so exactly one validation record (known before apply: no resource in .apply()).
    option = certificate.domain_validation_options.apply(lambda options: options[0])
    validation_record = aws.route53.Record(
        child_name(name, "cdn-cert-validation"),
        zone_id=args.hosted_zone_id,
        name=option.apply(lambda o: o.resource_record_name or ""),
        type=option.apply(lambda o: o.resource_record_type or ""),
        records=[option.apply(lambda o: o.resource_record_value or "")],
        ttl=300,
        allow_overwrite=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    validation = aws.acm.CertificateValidation(
        child_name(name, "cdn-cert-validated"),
        certificate_arn=certificate.arn,
        validation_record_fqdns=[validation_record.fqdn],
        opts=in_us_east_1,
    )
    # The distribution waits for a validated certificate, not just an issued request.
    return validation.certificate_arn
