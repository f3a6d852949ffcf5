"""Where alarms go: the SNS topic's policy and the policy of the customer-managed KMS key that encrypts it. Pure
JSON.

Why a customer-managed key: CloudWatch cannot publish to a topic encrypted with the AWS-managed `alias/aws/sns`
key (its policy cannot be changed to admit CloudWatch), and the failure shows only in the alarm's history as a
KMS AccessDenied (aws/aws-cdk#11121; AWS SNS developer guide, "Enable compatibility between event sources from
AWS services and encrypted topics"). The account root's `kms:*` does not cover a service principal: CloudWatch
and Budgets each need their own statement (landing-zone-accelerator-on-aws#31).
"""

from __future__ import annotations

import json
from typing import Any

CLOUDWATCH_SERVICE = "cloudwatch.amazonaws.com"
BUDGETS_SERVICE = "budgets.amazonaws.com"
PUBLISHING_SERVICES = (CLOUDWATCH_SERVICE, BUDGETS_SERVICE)
"""The services that publish to the alerts topic: CloudWatch alarms and AWS Budgets."""
# What a publisher needs on the topic's key: a data key to encrypt the message, and Decrypt (SNS's guide lists
# both for every AWS service publishing to an encrypted topic).
PUBLISHER_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


def _document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def alert_key_policy(account_id: str) -> str:
    """The alerts key: the account administers it through IAM; CloudWatch and Budgets may use it to publish."""
    return _document(
        [
            {
                # Without this the key is unmanageable by anyone in the account (KMS's default key policy).
                "Sid": "AccountAdministersTheKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                # No condition keys: SNS's guide documents none for these service calls, and a condition the
                # service's request does not carry would silently deny every alarm notification.
                "Sid": "PublishersEncryptAlerts",
                "Effect": "Allow",
                "Principal": {"Service": list(PUBLISHING_SERVICES)},
                "Action": list(PUBLISHER_KEY_ACTIONS),
                "Resource": "*",
            },
        ]
    )


def alert_topic_policy(*, topic_arn: str, account_id: str, region: str) -> str:
    """The alerts topic: the account manages it; this account's CloudWatch alarms and budgets publish to it (and
    no other account's: the confused-deputy conditions); nothing publishes without TLS."""
    return _document(
        [
            {
                "Sid": "AccountManagesTheTopic",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": [
                    "SNS:GetTopicAttributes",
                    "SNS:SetTopicAttributes",
                    "SNS:AddPermission",
                    "SNS:RemovePermission",
                    "SNS:DeleteTopic",
                    "SNS:Subscribe",
                    "SNS:ListSubscriptionsByTopic",
                    "SNS:Publish",
                ],
                "Resource": topic_arn,
            },
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDWATCH_SERVICE},
                "Action": "SNS:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{region}:{account_id}:alarm:*"},
                },
            },
            {
                # The Budgets guide's statement ("Creating an Amazon SNS topic for budget notifications"): budgets
                # are global, so their ARNs have no region.
                "Sid": "BudgetsPublish",
                "Effect": "Allow",
                "Principal": {"Service": BUDGETS_SERVICE},
                "Action": "SNS:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:budgets::{account_id}:*"},
                },
            },
            {
                "Sid": "PublishOnlyOverTls",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "SNS:Publish",
                "Resource": topic_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )
