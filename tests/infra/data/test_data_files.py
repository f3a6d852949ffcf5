"""The uploads bucket, its log bucket and the CloudFront CDN, through the plan, for every tier and environment."""

from __future__ import annotations

import json

import pytest

from infra.plan.document import Plan
from tests.infra.data.data_support import app_settings_of, only, resource
from tests.infra.plans import STACKS, plan_of

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
BUCKETS = ("files-uploads", "files-logs")
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
# stack id -> CloudFront price class, or None where the tier turns the CDN off (every tier has it on now;
# test_data_cdn_signing.py covers cdnEnabled=false)
CDN = {
    "dev": "PriceClass_100",
    "prod": "PriceClass_100",
    "dev-tier-B": "PriceClass_100",
    "prod-tier-B": "PriceClass_100",
    "prod-tier-C": "PriceClass_100",
}


def attached(plan: Plan, type_token: str, bucket: str) -> dict:
    matches = [r for r in plan.of_type(type_token) if r["inputs"]["bucket"] == f"{bucket}-id"]
    assert len(matches) == 1, f"{plan.stack}/{plan.tier}: {bucket} has {len(matches)} {type_token}"
    return matches[0]["inputs"]


@pytest.mark.parametrize("bucket", BUCKETS)
def test_buckets_block_all_public_access_and_encrypt(any_plan: Plan, bucket: str) -> None:
    block = attached(any_plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block[flag] is True, f"{bucket}: {flag}"
    encryption = attached(
        any_plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket
    )
    assert encryption["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] in ("AES256", "aws:kms")


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_policies_deny_plain_http(any_plan: Plan, bucket: str) -> None:
    policy = json.loads(attached(any_plan, "aws:s3/bucketPolicy:BucketPolicy", bucket)["policy"])
    denies = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and s["Action"] == "s3:*" for s in denies)
    assert not any(s["Effect"] == "Allow" and s.get("Principal") == "*" for s in policy["Statement"]), bucket


def test_bucket_policies_wait_for_their_public_access_block(any_plan: Plan) -> None:
    """S3 refuses a policy with a service principal while the bucket's public access block is being set."""
    ours = {f"{bucket}-id" for bucket in BUCKETS}
    policies = [p for p in any_plan.of_type("aws:s3/bucketPolicy:BucketPolicy") if p["inputs"]["bucket"] in ours]
    assert len(policies) == len(BUCKETS)
    for policy in policies:
        block = next(
            b
            for b in any_plan.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
            if b["inputs"]["bucket"] == policy["inputs"]["bucket"]
        )
        assert block["urn"] in policy["options"]["dependsOn"], f"{policy['urn']} races {block['urn']}"


def test_access_logging_is_turned_on_after_the_log_bucket_admits_it(any_plan: Plan) -> None:
    """S3 refuses to log into a bucket whose policy does not yet grant the logging service."""
    (logging,) = any_plan.of_type("aws:s3/bucketLogging:BucketLogging")
    assert resource(any_plan, "files-logs-policy")["urn"] in logging["options"]["dependsOn"], logging["urn"]


def test_uploads_are_versioned_with_a_lifecycle(any_plan: Plan) -> None:
    versioning = attached(any_plan, "aws:s3/bucketVersioning:BucketVersioning", "files-uploads")
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    rules = {
        r["id"]: r
        for r in attached(
            any_plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "files-uploads"
        )["rules"]
    }
    assert all(rule["status"] == "Enabled" for rule in rules.values())
    assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"]["daysAfterInitiation"] <= 7
    assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"]["noncurrentDays"] >= 1
    # Delete markers left alone once their versions expire are removed too (S3 keeps them otherwise); the
    # flag must stand without `days` or `date`, which S3 refuses beside it.
    assert rules["remove-expired-delete-markers"]["expiration"] == {"expiredObjectDeleteMarker": True}
    assert rules["remove-expired-delete-markers"]["filter"] == {}
    (transition,) = rules["infrequent-access-after-30-days"]["transitions"]
    assert transition == {"days": 30, "storageClass": "STANDARD_IA"}


def test_uploads_are_access_logged_and_logs_expire(any_plan: Plan) -> None:
    logging = attached(any_plan, "aws:s3/bucketLogging:BucketLogging", "files-uploads")
    assert logging["targetBucket"] == "files-logs-id"
    rules = attached(any_plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "files-logs")[
        "rules"
    ]
    assert rules[0]["expiration"]["days"] > 0
    ownership = attached(any_plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "files-uploads")
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_cors_admits_browser_uploads_from_the_apps_domain_only() -> None:
    cors = attached(plan_of("prod"), "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", "files-uploads")
    (rule,) = cors["corsRules"]
    assert rule["allowedOrigins"] == ["https://api.example.com"]
    assert "POST" in rule["allowedMethods"]
    assert "*" not in rule["allowedOrigins"]
    assert not set(rule["allowedMethods"]) & {"PUT", "DELETE"}
    # Without a domain there is no origin to trust: no CORS at all, S3 refuses cross-origin requests.
    assert plan_of("dev").of_type("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration") == []


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_cdn_per_tier_with_origin_access_control(stack_id: str) -> None:
    plan = plan_of(*STACKS[stack_id])
    price_class = CDN[stack_id]
    if price_class is None:
        assert plan.of_type(DISTRIBUTION) == []
        assert plan.outputs.get("cdnDomain") is None
        policy = json.loads(attached(plan, "aws:s3/bucketPolicy:BucketPolicy", "files-uploads")["policy"])
        assert len(policy["Statement"]) == 1
        assert "CDN_DOMAIN" not in app_settings_of(*STACKS[stack_id])
        return
    distribution = only(plan, DISTRIBUTION)
    inputs = distribution["inputs"]
    assert inputs["priceClass"] == price_class
    (origin,) = inputs["origins"]
    assert origin["domainName"] == "files-uploads-offline.s3.us-east-1.amazonaws.com"
    assert origin["originAccessControlId"] == "files-oac-id"
    oac = resource(plan, "files-oac")["inputs"]
    assert (oac["originAccessControlOriginType"], oac["signingBehavior"], oac["signingProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )
    behavior = inputs["defaultCacheBehavior"]
    assert behavior["viewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["cachePolicyId"] == CACHING_OPTIMIZED
    assert behavior["responseHeadersPolicyId"] == SECURITY_HEADERS
    assert set(behavior["allowedMethods"]) == {"GET", "HEAD", "OPTIONS"}
    assert inputs["loggingConfig"]["bucket"] == "files-logs-offline.s3.amazonaws.com"
    policy = json.loads(attached(plan, "aws:s3/bucketPolicy:BucketPolicy", "files-uploads")["policy"])
    allow = next(s for s in policy["Statement"] if s["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert (
        allow["Condition"]["StringEquals"]["AWS:SourceArn"]
        == f"arn:aws:cloudfront:us-east-1:123456789012:{distribution['name']}"
    )
    assert app_settings_of(*STACKS[stack_id])["CDN_DOMAIN"] == plan.outputs["cdnDomain"]


def test_custom_domain_serves_tls_1_2_with_a_validated_us_east_1_certificate(prod_plan: Plan) -> None:
    inputs = only(prod_plan, DISTRIBUTION)["inputs"]
    assert inputs["aliases"] == ["cdn.api.example.com"]
    certificate = inputs["viewerCertificate"]
    assert certificate["minimumProtocolVersion"] == "TLSv1.2_2021"
    assert certificate["sslSupportMethod"] == "sni-only"
    # The validated certificate: CloudFront waits for DNS validation, not just the request.
    validated = resource(prod_plan, "files-cdn-cert-validated")
    assert certificate["acmCertificateArn"] == validated["inputs"]["certificateArn"]
    cert = resource(prod_plan, "files-cdn-cert")
    assert cert["inputs"]["domainName"] == "cdn.api.example.com"
    assert cert["inputs"]["validationMethod"] == "DNS"
    us_east_1 = next(p for p in prod_plan.of_type("pulumi:providers:aws") if p["name"] == "aws-us-east-1")
    assert cert["provider"].startswith(us_east_1["urn"] + "::")
    validation = resource(prod_plan, "files-cdn-cert-validation")["inputs"]
    assert validation["zoneId"] == "Z0OFFLINEPLANZONE"
    assert validation["type"] == "CNAME"
    aliases = {
        r["inputs"]["type"]: r["inputs"]
        for r in prod_plan.of_type("aws:route53/record:Record")
        if r["name"].startswith("files-cdn-alias")
    }
    assert set(aliases) == {"A", "AAAA"}
    for record in aliases.values():
        assert record["name"] == "cdn.api.example.com"
        assert record["aliases"][0]["zoneId"] == "Z2FDTNDATAQYW2"
    assert prod_plan.outputs["cdnDomain"] == "cdn.api.example.com"


def test_without_a_domain_the_cdn_uses_its_own_name_and_certificate() -> None:
    plan = plan_of(*STACKS["dev-tier-B"])
    inputs = only(plan, DISTRIBUTION)["inputs"]
    assert inputs["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert not inputs.get("aliases")
    assert [c for c in plan.of_type("aws:acm/certificate:Certificate") if c["name"].startswith("files-")] == []
    # us-east-1 serves the CDN's web ACL only (CLOUDFRONT scope lives there), no certificate.
    assert sorted(p["name"] for p in plan.of_type("pulumi:providers:aws")) == ["aws", "aws-us-east-1"]
    assert plan.outputs["cdnDomain"].endswith(".cloudfront.net")


def test_tier_c_may_turn_the_cdn_on() -> None:
    plan = plan_of("dev", ("cdnEnabled=true",))
    assert only(plan, DISTRIBUTION)["inputs"]["priceClass"] == "PriceClass_100"


def test_bucket_name_is_exported_and_in_the_apps_settings(any_plan: Plan) -> None:
    assert any_plan.outputs["uploadsBucket"] == "files-uploads-offline"
