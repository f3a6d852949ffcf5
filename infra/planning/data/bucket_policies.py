"""S3 bucket policy documents (JSON), built from ARNs: pure, so the tests read them without a plan."""

from __future__ import annotations

import json
from typing import Any


def _deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    # Plain HTTP would expose presigned requests and object bytes; S3 accepts it unless told not to.
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def uploads_bucket_policy(bucket_arn: str, distribution_arn: str | None) -> str:
    """TLS only; CloudFront may read objects, and only this distribution, through origin access control."""
    statements: list[dict[str, Any]] = [_deny_insecure_transport(bucket_arn)]
    if distribution_arn:
        statements.append(
            {
                "Sid": "AllowCloudFrontReadThroughOriginAccessControl",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"{bucket_arn}/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def log_bucket_policy(log_bucket_arn: str, source_bucket_arn: str, account_id: str, access_log_prefix: str) -> str:
    """TLS only; S3 server access logging may write the uploads bucket's logs under its prefix, nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                _deny_insecure_transport(log_bucket_arn),
                {
                    "Sid": "AllowS3ServerAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{log_bucket_arn}/{access_log_prefix}*",
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": source_bucket_arn},
                        "StringEquals": {"aws:SourceAccount": account_id},
                    },
                },
            ],
        }
    )
