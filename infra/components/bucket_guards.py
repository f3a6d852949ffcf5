"""The guards every bucket of this program gets, whatever it holds: no public access and encryption at rest.

One function so that the uploads bucket and the log buckets (CloudFront's, the ALB's) cannot drift apart.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def block_public_access_and_encrypt(
    parent: pulumi.Resource, name: str, bucket: aws.s3.Bucket
) -> aws.s3.BucketPublicAccessBlock:
    """All four public-access flags on, and SSE-S3 by default; `name` prefixes both children.

    Returns the block: a bucket policy that names a service principal must wait for it (S3 answers a policy put
    while the block is still being set with OperationAborted, pulumi/pulumi-aws#1570).
    """
    child = pulumi.ResourceOptions(parent=parent)
    block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    # SSE-S3, not SSE-KMS: ALB log delivery refuses KMS keys, and CloudFront's origin access control and S3 log
    # delivery would each need a key grant.
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                )
            )
        ],
        opts=child,
    )
    return block
