"""The VPC flow logs' IAM role: who may assume it and what it may do. Pure JSON.

As the VPC user guide gives them ("IAM role for publishing flow logs to CloudWatch Logs"):
- trust: the flow logs service, and only on behalf of this account's flow logs in this region
  (`aws:SourceAccount`, `aws:SourceArn`): without the conditions, any account's flow log that names this role's
  ARN could make the service write into this account's log group (the confused deputy);
- permissions: write to the one log group; `logs:DescribeLogGroups` only on `*`, the only resource the action
  takes (on a log group's ARN it matches nothing, so the grant had no effect).
"""

from __future__ import annotations

import json
from typing import Any, Final

FLOW_LOGS_SERVICE: Final = "vpc-flow-logs.amazonaws.com"
GROUP_SCOPED_ACTIONS: Final = ("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents")
ACCOUNT_SCOPED_ACTIONS: Final = ("logs:DescribeLogGroups",)


def flow_logs_trust_policy(*, account_id: str, region: str) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": FLOW_LOGS_SERVICE},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{region}:{account_id}:vpc-flow-log/*"},
        },
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


def flow_logs_permissions(log_group_arn: str) -> str:
    statements = [
        {
            "Sid": "WriteTheFlowLogGroup",
            "Effect": "Allow",
            "Action": list(GROUP_SCOPED_ACTIONS),
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        },
        {
            "Sid": "FindTheLogGroup",
            "Effect": "Allow",
            "Action": list(ACCOUNT_SCOPED_ACTIONS),
            "Resource": "*",
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
