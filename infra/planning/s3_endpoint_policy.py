"""The S3 gateway endpoint's policy: which buckets the VPC may reach through it. Pure JSON.

The endpoint's default policy allows every action on every bucket of every account; with the app's HTTPS egress
open, anything running in the VPC could then copy data to a bucket of its own choosing. The endpoint now admits
three sets of buckets, and nothing else:
- the stack's own data buckets (the uploads bucket), for what the app does with them; the instance role still
  decides which of these actions the app may take;
- the Amazon Linux 2023 repositories, from which cloud-init installs Docker and the CloudWatch agent: dnf's
  mirror list on AL2023 is `https://al2023-repos-$awsregion-de612dc2.s3$dualstack.$awsregion.$awsdomain/...`
  (/etc/yum.repos.d/amazonlinux.repo on the AMI), a bucket per region;
- ECR's image layers: "arn:aws:s3:::prod-<region>-starport-layer-bucket/*", the minimum the Amazon ECR user
  guide gives for pulling through an S3 gateway endpoint (Amazon ECR interface VPC endpoints, "Minimum Amazon
  S3 bucket permissions").
A gateway endpoint serves its own region's buckets only; the project deploys to commercial regions only (those
Atlas serves), hence the `aws` partition.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

AL2023_REPOSITORY_BUCKET: Final = "al2023-repos-{region}-de612dc2"
ECR_LAYER_BUCKET: Final = "prod-{region}-starport-layer-bucket"

STACK_BUCKET_ACTIONS: Final = (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListBucketVersions",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
)
"""What a workload may do with the stack's buckets through the endpoint: object reads, writes and deletes,
listing, multipart uploads. No bucket configuration (policy, ACL, lifecycle): that is Pulumi's, from outside."""


def s3_endpoint_policy(*, region: str, stack_bucket_arns: Sequence[str]) -> str:
    if not stack_bucket_arns:
        raise ValueError("the endpoint admits the stack's buckets: at least one bucket ARN is required")
    bucket_resources = [resource for arn in stack_bucket_arns for resource in (arn, f"{arn}/*")]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "TheStacksBuckets",
            "Effect": "Allow",
            "Principal": "*",
            "Action": list(STACK_BUCKET_ACTIONS),
            "Resource": bucket_resources,
        },
        {
            "Sid": "AmazonLinuxRepositories",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{AL2023_REPOSITORY_BUCKET.format(region=region)}/*",
        },
        {
            "Sid": "EcrImageLayers",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{ECR_LAYER_BUCKET.format(region=region)}/*",
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
