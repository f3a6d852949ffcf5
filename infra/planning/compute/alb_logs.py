"""The ALB access-log bucket's policy: TLS only, and Elastic Load Balancing may write its logs, nothing else."""

from __future__ import annotations

import json

ACCESS_LOG_PREFIX = "alb"
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"


def alb_log_bucket_policy(*, bucket_arn: str, account_id: str, elb_account_arn: str) -> str:
    """Regions opened before August 2022 deliver ALB logs as the region's ELB account (`elb_account_arn`),
    newer ones as the log-delivery service principal: grant both, to this account's log prefix only."""
    log_objects = f"{bucket_arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account_id}/*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Sid": "AllowRegionalElbAccountToWriteAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"AWS": elb_account_arn},
                    "Action": "s3:PutObject",
                    "Resource": log_objects,
                },
                {
                    "Sid": "AllowElbLogDeliveryToWriteAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": ELB_LOG_DELIVERY_SERVICE},
                    "Action": "s3:PutObject",
                    "Resource": log_objects,
                },
            ],
        },
        sort_keys=True,
    )
