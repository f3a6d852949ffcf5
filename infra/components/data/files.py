"""Files: the private uploads bucket, its access-log bucket and, when enabled, the CloudFront CDN in front.

Browsers upload straight to S3 with presigned POSTs (CORS from the stack's allowed origins only) and read through
CloudFront, which alone may read the bucket (origin access control). Nothing in either bucket is public.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.bucket_guards import block_public_access_and_encrypt
from infra.components.data.cdn import CdnArgs, create_cdn
from infra.config.model import CdnPriceClass
from infra.planning.data.bucket_policies import log_bucket_policy, uploads_bucket_policy
from infra.planning.naming import child_name, name_tag
from infra.planning.protection import protection_for

S3_ACCESS_LOG_PREFIX = "s3-access/"
CLOUDFRONT_LOG_PREFIX = "cloudfront/"
# Overwritten or deleted uploads stay recoverable this long (versioning), then go.
NONCURRENT_VERSION_DAYS = {True: 90, False: 7}
# S3 Standard-IA's minimum storage duration: moving earlier costs more than it saves.
INFREQUENT_ACCESS_AFTER_DAYS = 30
# Objects under 128 KiB are billed as 128 KiB in Standard-IA: leave them in Standard.
INFREQUENT_ACCESS_MIN_BYTES = 128 * 1024


@dataclass(frozen=True)
class FilesArgs:
    name_prefix: str
    is_production: bool
    domain: str
    """The app's host name ("" = none): `cdn.<domain>` for the CDN."""
    hosted_zone_id: str
    cdn_enabled: bool
    cdn_price_class: CdnPriceClass
    log_retention_days: int
    certificate_provider: aws.Provider | None = None
    """An AWS provider in us-east-1 (CloudFront certificates live there); required with a domain and a CDN."""
    cors_origins: tuple[str, ...] = ()
    """Browser origins that may upload and read (the API's own and `corsOrigins`); none: no CORS at all."""
    cdn_web_acl_arn: pulumi.Input[str] | None = None
    """The web ACL in front of the CDN (CLOUDFRONT scope, us-east-1)."""


class Files(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    cdn_domain: pulumi.Output[str] | None
    cdn_signing_key_id: pulumi.Output[str] | None
    """The CloudFront public key id of signed download URLs, None without a CDN."""
    cdn_signing_private_key: pulumi.Output[str] | None
    """Secret output: the PEM key that signs download URLs, None without a CDN."""
    log_bucket_name: pulumi.Output[str]

    def __init__(self, name: str, args: FilesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:files:Files", name, None, opts)
        self._name = name
        self._args = args
        guard = protection_for(args.is_production)
        stateful = pulumi.ResourceOptions(parent=self, protect=guard.protect, retain_on_delete=guard.retain_on_delete)

        logs = aws.s3.Bucket(
            child_name(name, "logs"),
            force_destroy=guard.force_destroy_buckets,
            tags=name_tag(args.name_prefix, "access-logs"),
            opts=stateful,
        )
        # CloudFront standard logging writes with an ACL grant to its log-delivery account, so this bucket
        # (and only this one) keeps ACLs enabled for the bucket owner's objects.
        log_ownership = aws.s3.BucketOwnershipControls(
            child_name(name, "logs-ownership"),
            bucket=logs.id,
            rule={"object_ownership": "BucketOwnerPreferred"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        logs_block = block_public_access_and_encrypt(self, child_name(name, "logs"), logs)
        aws.s3.BucketLifecycleConfiguration(
            child_name(name, "logs-lifecycle"),
            bucket=logs.id,
            rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"days": args.log_retention_days},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
                }
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

        uploads = aws.s3.Bucket(
            child_name(name, "uploads"),
            force_destroy=guard.force_destroy_buckets,
            tags=name_tag(args.name_prefix, "uploads"),
            opts=stateful,
        )
        aws.s3.BucketOwnershipControls(
            child_name(name, "uploads-ownership"),
            bucket=uploads.id,
            rule={"object_ownership": "BucketOwnerEnforced"},  # ACLs off: the policy alone decides access
            opts=pulumi.ResourceOptions(parent=self),
        )
        uploads_block = block_public_access_and_encrypt(self, child_name(name, "uploads"), uploads)
        aws.s3.BucketVersioning(
            child_name(name, "uploads-versioning"),
            bucket=uploads.id,
            versioning_configuration={"status": "Enabled"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._uploads_lifecycle(uploads)
        self._cors(uploads)
        account_id = aws.get_caller_identity(opts=pulumi.InvokeOptions(parent=self)).account_id
        logs_policy = aws.s3.BucketPolicy(
            child_name(name, "logs-policy"),
            bucket=logs.id,
            policy=pulumi.Output.all(logs.arn, uploads.arn).apply(
                lambda arns: log_bucket_policy(arns[0], arns[1], account_id, S3_ACCESS_LOG_PREFIX)
            ),
            # A policy with a service principal is refused while the public access block is being created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs_block]),
        )
        aws.s3.BucketLogging(
            child_name(name, "uploads-access-logs"),
            bucket=uploads.id,
            target_bucket=logs.id,
            target_prefix=S3_ACCESS_LOG_PREFIX,
            # S3 refuses to turn logging on (InvalidTargetBucketForLogging) until the target grants the logging
            # service, which only the policy above does (ACL grants to the log-delivery group are not used).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs_policy]),
        )

        distribution_arn: pulumi.Output[str] | None = None
        self.cdn_domain = None
        self.cdn_signing_key_id = None
        self.cdn_signing_private_key = None
        if args.cdn_enabled:
            cdn = create_cdn(
                self,
                name,
                CdnArgs(
                    name_prefix=args.name_prefix,
                    domain=args.domain,
                    hosted_zone_id=args.hosted_zone_id,
                    price_class=args.cdn_price_class,
                    certificate_provider=args.certificate_provider,
                    web_acl_arn=args.cdn_web_acl_arn,
                ),
                origin_domain=uploads.bucket_regional_domain_name,
                log_bucket_domain=logs.bucket_domain_name,
                log_prefix=CLOUDFRONT_LOG_PREFIX,
                depends_on=[log_ownership],
            )
            distribution_arn = cdn.distribution_arn
            self.cdn_domain = cdn.domain
            self.cdn_signing_key_id = cdn.signing_key_id
            self.cdn_signing_private_key = cdn.signing_private_key

        cloudfront_arn: pulumi.Input[str] = distribution_arn if distribution_arn is not None else ""
        aws.s3.BucketPolicy(
            child_name(name, "uploads-policy"),
            bucket=uploads.id,
            policy=pulumi.Output.all(uploads.arn, cloudfront_arn).apply(
                lambda arns: uploads_bucket_policy(arns[0], arns[1] or None)
            ),
            # A policy with a service principal is refused while the public access block is being created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[uploads_block]),
        )

        self.bucket_name = uploads.bucket
        self.bucket_arn = uploads.arn
        self.log_bucket_name = logs.bucket
        self.register_outputs(
            {"bucketName": self.bucket_name, "bucketArn": self.bucket_arn, "cdnDomain": self.cdn_domain}
        )

    def _uploads_lifecycle(self, uploads: aws.s3.Bucket) -> None:
        aws.s3.BucketLifecycleConfiguration(
            child_name(self._name, "uploads-lifecycle"),
            bucket=uploads.id,
            rules=[
                {
                    # Browsers abandon uploads; their parts are billed until removed.
                    "id": "abort-incomplete-multipart-uploads",
                    "status": "Enabled",
                    "filter": {},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                },
                {
                    "id": "expire-noncurrent-versions",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {
                        "noncurrent_days": NONCURRENT_VERSION_DAYS[self._args.is_production]
                    },
                },
                {
                    # Once a deleted upload's old versions expire, its delete marker is all that is left; S3
                    # keeps it until told, and versioned listings page through every one of them. Its own rule:
                    # S3 refuses this flag next to `days` or `date` in the same expiration.
                    "id": "remove-expired-delete-markers",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"expired_object_delete_marker": True},
                },
                {
                    "id": "infrequent-access-after-30-days",
                    "status": "Enabled",
                    "filter": {"object_size_greater_than": INFREQUENT_ACCESS_MIN_BYTES},
                    "transitions": [{"days": INFREQUENT_ACCESS_AFTER_DAYS, "storage_class": "STANDARD_IA"}],
                },
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _cors(self, uploads: aws.s3.Bucket) -> None:
        if not self._args.cors_origins:
            # No browser origin to trust: cross-origin uploads stay refused (S3's default).
            return
        aws.s3.BucketCorsConfiguration(
            child_name(self._name, "uploads-cors"),
            bucket=uploads.id,
            cors_rules=[
                {
                    "id": "browser-uploads-from-the-app",
                    "allowed_origins": list(self._args.cors_origins),
                    "allowed_methods": ["POST", "GET", "HEAD"],  # presigned POST uploads, presigned GETs
                    "allowed_headers": ["Content-Type", "Content-MD5", "Content-Disposition", "x-amz-*"],
                    "expose_headers": ["ETag"],
                    "max_age_seconds": 3000,
                }
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
