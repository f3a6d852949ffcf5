"""CloudFront: viewers on HTTPS with a modern TLS floor, S3 origins read through origin access control, logs."""

from __future__ import annotations

from collections.abc import Iterator

from infra.policy.model import Resource, get, is_true, items, present

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
HTTPS_VIEWER_POLICIES = ("redirect-to-https", "https-only")
MODERN_TLS = ("TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")
"""CloudFront's security policies with TLS 1.2 or newer and only forward-secret AEAD ciphers."""


def viewers_on_https(distribution: Resource) -> Iterator[str]:
    behaviors = [("the default cache behavior", get(distribution.inputs, "defaultCacheBehavior"))]
    behaviors += [
        (f"cache behavior {get(b, 'pathPattern') or i}", b)
        for i, b in enumerate(items(distribution.inputs, "orderedCacheBehaviors"))
    ]
    for label, behavior in behaviors:
        policy = get(behavior, "viewerProtocolPolicy") if behavior is not None else None
        if policy not in HTTPS_VIEWER_POLICIES:
            yield (
                f"{distribution.name}: {label} lets viewers use plain HTTP (viewer_protocol_policy {policy}): set it "
                "to 'redirect-to-https' (or 'https-only')"
            )


def modern_tls(distribution: Resource) -> Iterator[str]:
    certificate = get(distribution.inputs, "viewerCertificate")
    if certificate is None or is_true(get(certificate, "cloudfrontDefaultCertificate")):
        return  # the *.cloudfront.net certificate: CloudFront fixes its TLS policy, there is nothing to set
    minimum = get(certificate, "minimumProtocolVersion")
    if minimum not in MODERN_TLS:
        yield (
            f"{distribution.name} accepts viewers on {minimum or 'TLSv1 (the default)'}: set viewer_certificate "
            "minimum_protocol_version='TLSv1.2_2021' or newer"
        )


def access_logs(distribution: Resource) -> Iterator[str]:
    if not present(distribution.inputs, "loggingConfig", "bucket"):
        yield (
            f"{distribution.name} keeps no access logs: set logging_config with a private log bucket (ACLs enabled "
            "for the log delivery account, as CloudFront standard logging requires)"
        )


def origin_access_control(distribution: Resource) -> Iterator[str]:
    for index, origin in enumerate(items(distribution.inputs, "origins")):
        domain = get(origin, "domainName")
        is_s3_api = isinstance(domain, str) and ".s3." in f".{domain}" and "s3-website" not in domain
        if not is_s3_api or get(origin, "customOriginConfig") is not None:
            continue
        label = get(origin, "originId") or f"origin {index}"
        if not present(origin, "originAccessControlId"):
            legacy = (
                " (origin access identity is the legacy mechanism)"
                if get(origin, "s3OriginConfig", "originAccessIdentity")
                else ""
            )
            yield (
                f"{distribution.name}: S3 origin {label} is read without origin access control{legacy}: create an "
                "aws.cloudfront.OriginAccessControl (signing always, sigv4), set origin_access_control_id, and allow "
                "only this distribution in the bucket policy"
            )


def web_acl_attached(distribution: Resource) -> Iterator[str]:
    if not present(distribution.inputs, "webAclId"):
        yield (
            f"{distribution.name} has no web application firewall: set web_acl_id to a WAFv2 web ACL (scope "
            "CLOUDFRONT, in us-east-1) with AWS managed rule groups and a rate limit"
        )
