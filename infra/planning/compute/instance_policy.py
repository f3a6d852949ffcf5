"""The app instances' IAM policy: what one instance of the fleet may do, and nothing else. Pure JSON.

No AWS-managed policy is attached: AmazonSSMManagedInstanceCore, AmazonEC2ContainerRegistryReadOnly and
CloudWatchAgentServerPolicy each grant far more (every SSM parameter, every repository, every log group).
Where an action has no resource-level permissions, AWS requires `"Resource": "*"`; those are listed in
`ACTIONS_WITHOUT_RESOURCE_SCOPE` and the tests allow `*` for them only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

CLOUDWATCH_AGENT_NAMESPACE = "CWAgent"

_SESSION_MANAGER_ACTIONS = (
    # The documented minimum for Session Manager (no SSH, no port 22, no key pair).
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
ACTIONS_WITHOUT_RESOURCE_SCOPE = frozenset(
    {
        *_SESSION_MANAGER_ACTIONS,
        "ecr:GetAuthorizationToken",  # a registry-wide login token; pulls are scoped to one repository below
        "cloudwatch:PutMetricData",  # scoped by a namespace condition instead
        "ec2:DescribeTags",  # the agent reads the instance's aws:autoscaling:groupName tag for a dimension
    }
)


@dataclass(frozen=True)
class InstanceGrants:
    repository_arn: str
    app_secret_arn: str
    files_bucket_arn: str
    log_group_arn: str


def instance_policy_document(grants: InstanceGrants) -> str:
    statements: list[dict[str, Any]] = [
        {"Sid": "SessionManager", "Effect": "Allow", "Action": list(_SESSION_MANAGER_ACTIONS), "Resource": "*"},
        {"Sid": "RegistryLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {
            "Sid": "PullTheAppImage",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": grants.repository_arn,
        },
        {
            "Sid": "ReadTheAppSecret",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": grants.app_secret_arn,
        },
        {
            "Sid": "ListTheFilesBucket",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": grants.files_bucket_arn,
        },
        {
            # The app presigns uploads and downloads with the instance's credentials and deletes files.
            "Sid": "UseTheFilesBucketObjects",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            "Resource": f"{grants.files_bucket_arn}/*",
        },
        {
            # Container logs (Docker's awslogs driver) and the boot log (CloudWatch agent), to one log group.
            "Sid": "WriteTheAppLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [grants.log_group_arn, f"{grants.log_group_arn}:*"],
        },
        {
            "Sid": "PublishAgentMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": CLOUDWATCH_AGENT_NAMESPACE}},
        },
        {"Sid": "ReadInstanceTags", "Effect": "Allow", "Action": "ec2:DescribeTags", "Resource": "*"},
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def ec2_assume_role_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        },
        sort_keys=True,
    )
