"""The account's CloudTrail trail: every region's management events (IAM, EC2, S3 configuration, KMS, ... every
API call that changes or reads the account's setup), with log-file validation (hourly signed digests, so a
deleted or altered log file can be proven), KMS-encrypted with a key of its own, into a private bucket with
public access blocked, versioning and a lifecycle.

One trail per account is the usual setup (a second trail's management events are billed as another copy): the
README says when to turn it off with cloudTrailEnabled. The trail's ARN is built from its fixed name
(infra/planning/audit/trail.py says why).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.bucket_guards import block_public_access_and_encrypt
from infra.planning.audit.trail import trail_arn, trail_bucket_policy, trail_key_policy, trail_name
from infra.planning.naming import child_name, name_tag
from infra.planning.protection import Protection

KEY_DELETION_WINDOW_DAYS = 30
NONCURRENT_VERSION_DAYS = 30
"""An overwritten or deleted log file stays recoverable this long."""


@dataclass(frozen=True)
class AuditTrailArgs:
    name_prefix: str
    region: str
    retention_days: int
    """How long log files are kept (the stack's logRetentionDays)."""
    guard: Protection
    """Production: the bucket and the key are protected and retained (without the key the logs are unreadable)."""


class AuditTrail(pulumi.ComponentResource):
    trail_arn: pulumi.Output[str]
    bucket_name: pulumi.Output[str]

    def __init__(self, name: str, args: AuditTrailArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:audit:AuditTrail", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(
            parent=self, protect=args.guard.protect, retain_on_delete=args.guard.retain_on_delete
        )
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        name_of_trail = trail_name(args.name_prefix)
        arn_of_trail = account_id.apply(
            lambda account: trail_arn(region=args.region, account_id=account, name=name_of_trail)
        )

        key = aws.kms.Key(
            child_name(name, "key"),
            description=f"{args.name_prefix}: encrypts the CloudTrail trail's log files",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=pulumi.Output.all(account_id, arn_of_trail).apply(
                lambda values: trail_key_policy(account_id=values[0], trail=values[1])
            ),
            tags=name_tag(args.name_prefix, "trail-key"),
            opts=kept,
        )
        aws.kms.Alias(
            child_name(name, "key-alias"), name=f"alias/{args.name_prefix}-trail", target_key_id=key.key_id, opts=child
        )
        bucket = aws.s3.Bucket(
            child_name(name, "bucket"),
            force_destroy=args.guard.force_destroy_buckets,
            tags=name_tag(args.name_prefix, "trail"),
            opts=kept,
        )
        aws.s3.BucketOwnershipControls(
            child_name(name, "bucket-ownership"),
            bucket=bucket.id,
            # ACLs off; CloudTrail's bucket-owner-full-control grant is accepted and the bucket owns every object.
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        block = block_public_access_and_encrypt(self, child_name(name, "bucket"), bucket)
        aws.s3.BucketVersioning(
            child_name(name, "bucket-versioning"),
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            child_name(name, "bucket-lifecycle"),
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-trail-logs",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"days": args.retention_days},
                    "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_VERSION_DAYS},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
                },
                {
                    "id": "remove-expired-delete-markers",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"expired_object_delete_marker": True},
                },
            ],
            opts=child,
        )
        policy = aws.s3.BucketPolicy(
            child_name(name, "bucket-policy"),
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, account_id, arn_of_trail).apply(
                lambda values: trail_bucket_policy(bucket_arn=values[0], account_id=values[1], trail=values[2])
            ),
            # A policy with a service principal is refused while the public access block is being created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[block]),
        )
        trail = aws.cloudtrail.Trail(
            child_name(name, "trail"),
            name=name_of_trail,
            s3_bucket_name=bucket.id,
            kms_key_id=key.arn,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            tags=name_tag(args.name_prefix, "trail"),
            # CloudTrail checks at creation that it may write: InsufficientS3BucketPolicyException otherwise.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.trail_arn = trail.arn
        self.bucket_name = bucket.bucket
        self.register_outputs({"trailArn": self.trail_arn, "bucketName": self.bucket_name})
