"""The ALB access-log bucket's policy: TLS only, and Elastic Load Balancing may write its logs, nothing else.

Who writes the logs depends on the region (AWS, "Enable access logs for your Application Load Balancer",
step 2): regions available before August 2022 deliver them as the region's Elastic Load Balancing account;
newer regions as the log-delivery service principal, and have no such account, so the provider's
`aws.elb.get_service_account` fails there ("Unknown region"). The program asks for the account only in the
legacy regions.
"""

from __future__ import annotations

import json
from typing import Any

ACCESS_LOG_PREFIX = "alb"
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"

LEGACY_ELB_ACCOUNT_REGIONS = frozenset(
    {
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "af-south-1",
        "ap-east-1",
        "ap-south-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ca-central-1",
        "eu-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-south-1",
        "eu-north-1",
        "me-south-1",
        "sa-east-1",
        "us-gov-west-1",
        "us-gov-east-1",
        "cn-north-1",
        "cn-northwest-1",
    }
)
"""The regions with a regional Elastic Load Balancing account for log delivery (AWS's list of "Regions available
before August 2022", the same regions the provider's `aws_elb_service_account` knows). Every later region
(eu-central-2, eu-south-2, ap-south-2, ap-southeast-4, me-central-1, il-central-1, ca-west-1, mx-central-1, ...)
uses the service principal only."""


def uses_legacy_elb_account(region: str) -> bool:
    """Whether ALB log delivery in `region` writes as a regional Elastic Load Balancing account."""
    return region in LEGACY_ELB_ACCOUNT_REGIONS


def alb_log_bucket_policy(*, bucket_arn: str, account_id: str, elb_account_arn: str | None) -> str:
    """Log delivery may put objects under this account's log prefix only: as the service principal
    everywhere, and also as the region's ELB account (`elb_account_arn`) in a legacy region (None elsewhere)."""
    log_objects = f"{bucket_arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account_id}/*"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    if elb_account_arn is not None:
        statements.append(
            {
                "Sid": "AllowRegionalElbAccountToWriteAccessLogs",
                "Effect": "Allow",
                "Principal": {"AWS": elb_account_arn},
                "Action": "s3:PutObject",
                "Resource": log_objects,
            }
        )
    statements.append(
        {
            "Sid": "AllowElbLogDeliveryToWriteAccessLogs",
            "Effect": "Allow",
            "Principal": {"Service": ELB_LOG_DELIVERY_SERVICE},
            "Action": "s3:PutObject",
            "Resource": log_objects,
        }
    )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
