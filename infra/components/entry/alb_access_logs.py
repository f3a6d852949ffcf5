"""The ALB's access-log bucket: private, encrypted with S3 keys (the only kind ALB log delivery supports),
TLS only, and emptied by a lifecycle rule. Built under the load balancer component (parent)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.bucket_guards import block_public_access_and_encrypt
from infra.planning.compute.alb_logs import alb_log_bucket_policy, uses_legacy_elb_account
from infra.planning.naming import child_name, name_tag
from infra.planning.protection import Protection

# Incomplete multipart uploads are invisible and billed; a day is plenty for a log object.
ABORT_INCOMPLETE_UPLOADS_DAYS = 1


@dataclass(frozen=True)
class AccessLogBucketArgs:
    name_prefix: str
    region: str
    """Decides who delivers the logs: a regional ELB account (older regions) or the service principal."""
    retention_days: int
    guard: Protection
    """Production keeps the logs (an audit trail) through a mistaken destroy; development may empty them."""


@dataclass(frozen=True)
class AccessLogBucket:
    bucket: aws.s3.Bucket
    policy: aws.s3.BucketPolicy
    """The ALB must be created after it: AWS checks write access when access logs are turned on."""


def access_log_bucket(parent: pulumi.Resource, name: str, args: AccessLogBucketArgs) -> AccessLogBucket:
    child = pulumi.ResourceOptions(parent=parent)
    tags = name_tag(args.name_prefix, "alb-access-logs")
    bucket = aws.s3.Bucket(
        child_name(name, "logs"),
        force_destroy=args.guard.force_destroy_buckets,
        tags=tags,
        opts=pulumi.ResourceOptions(
            parent=parent, protect=args.guard.protect, retain_on_delete=args.guard.retain_on_delete
        ),
    )
    public_access_block = block_public_access_and_encrypt(parent, child_name(name, "logs"), bucket)
    aws.s3.BucketOwnershipControls(
        child_name(name, "logs-ownership"),
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),  # ACLs off
        opts=child,
    )
    aws.s3.BucketLifecycleConfiguration(
        child_name(name, "logs-lifecycle"),
        bucket=bucket.id,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.retention_days),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=ABORT_INCOMPLETE_UPLOADS_DAYS
                ),
            )
        ],
        opts=child,
    )
    account = aws.get_caller_identity(opts=pulumi.InvokeOptions(parent=parent))
    # Only the legacy regions have an ELB account: elsewhere the lookup fails, and the service principal writes.
    elb_account_arn = (
        aws.elb.get_service_account(opts=pulumi.InvokeOptions(parent=parent)).arn
        if uses_legacy_elb_account(args.region)
        else None
    )
    policy = aws.s3.BucketPolicy(
        child_name(name, "logs-policy"),
        bucket=bucket.id,
        policy=bucket.arn.apply(
            lambda arn: alb_log_bucket_policy(
                bucket_arn=arn, account_id=account.account_id, elb_account_arn=elb_account_arn
            )
        ),
        # Put at the same time as the public access block, the policy fails with OperationAborted ("a
        # conflicting conditional operation is in progress", pulumi/pulumi-aws#1570): the block first, and
        # the policy is then checked against it.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[public_access_block]),
    )
    return AccessLogBucket(bucket=bucket, policy=policy)
