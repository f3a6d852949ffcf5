"""The CloudTrail trail's bucket policy and key policy, pure JSON (AWS CloudTrail user guide: "Amazon S3 bucket
policy for CloudTrail" and "Configure AWS KMS key policies for CloudTrail").

Both name the trail by its ARN, which is built here from its fixed name: taking `trail.arn` would make the bucket
policy depend on the trail, while the trail must be created after the policy, or CloudTrail refuses it with
InsufficientS3BucketPolicyException (terraform-provider-aws#27945).
"""

from __future__ import annotations

import json
from typing import Any, Final

CLOUDTRAIL_SERVICE: Final = "cloudtrail.amazonaws.com"


def trail_name(name_prefix: str) -> str:
    return f"{name_prefix}-trail"


def trail_arn(*, region: str, account_id: str, name: str) -> str:
    """A trail's ARN: its home region, the account, its name."""
    return f"arn:aws:cloudtrail:{region}:{account_id}:trail/{name}"


def _account_trails(account_id: str) -> str:
    """Every trail of the account, in any region: what the encryption context names (aws:cloudtrail:arn)."""
    return f"arn:aws:cloudtrail:*:{account_id}:trail/*"


def _document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def trail_bucket_policy(*, bucket_arn: str, account_id: str, trail: str) -> str:
    """CloudTrail checks the bucket's ACL and writes under AWSLogs/<account>/ for this trail only (aws:SourceArn,
    the confused-deputy guard), handing the objects to the bucket owner; nothing reaches the bucket without TLS."""
    source = {"aws:SourceArn": trail}
    return _document(
        [
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL_SERVICE},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
                "Condition": {"StringEquals": source},
            },
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL_SERVICE},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*",
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **source}},
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )


def trail_key_policy(*, account_id: str, trail: str) -> str:
    """The trail's KMS key: the account administers it; CloudTrail may encrypt this trail's logs and describe the
    key; anyone in the account may decrypt CloudTrail's log files (IAM still decides who may read the bucket)."""
    context = {"kms:EncryptionContext:aws:cloudtrail:arn": _account_trails(account_id)}
    return _document(
        [
            {
                "Sid": "AccountAdministersTheKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudTrailEncryptsTheTrailsLogs",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL_SERVICE},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": trail}, "StringLike": context},
            },
            {
                "Sid": "CloudTrailDescribesTheKey",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL_SERVICE},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": trail}},
            },
            {
                "Sid": "AccountReadsTheLogFiles",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": account_id}, "StringLike": context},
            },
        ]
    )
