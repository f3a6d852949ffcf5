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
        "autoscaling:DescribeAutoScalingInstances",  # a worker host finds its own group (read only)
    }
)
JOBS_METRICS_NAMESPACE = "Contentry/Jobs"
"""The queue metrics exporter's namespace (job_containers.JOBS_METRICS_NAMESPACE says more)."""


@dataclass(frozen=True)
class InstanceGrants:
    repository_arn: str
    app_secret_arn: str
    files_bucket_arn: str
    log_group_arn: str
    list_files_bucket: bool = True
    """The API lists the bucket (a missing key is then a 404, not a 403); the job workers read known keys only."""
    publish_job_metrics: bool = False
    """The queue metrics exporter runs here: PutMetricData to Contentry/Jobs only."""
    datadog_secret_arn: str | None = None
    """The Datadog agent runs here: it reads its API key from this secret, and no other."""
    find_own_group: bool = False
    """A worker host looks up its Auto Scaling group's name (to complete its termination lifecycle action)."""


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
        *(
            [
                {
                    "Sid": "ListTheFilesBucket",
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": grants.files_bucket_arn,
                }
            ]
            if grants.list_files_bucket
            else []
        ),
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
    if grants.publish_job_metrics:
        statements.append(
            {
                # The exporter's QueueDepth and OldestJobAgeSeconds; the action has no resource-level scope.
                "Sid": "PublishJobMetrics",
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": JOBS_METRICS_NAMESPACE}},
            }
        )
    if grants.datadog_secret_arn is not None:
        statements.append(
            {
                "Sid": "ReadTheDatadogApiKey",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": grants.datadog_secret_arn,
            }
        )
    if grants.find_own_group:
        statements.append(
            {
                "Sid": "FindTheOwnGroup",
                "Effect": "Allow",
                "Action": "autoscaling:DescribeAutoScalingInstances",
                "Resource": "*",
            }
        )
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


def worker_group_policy_document(group_arn: str) -> str:
    """What a worker host may do to its own Auto Scaling group, and to no other: mark itself unhealthy (its
    Celery ping failed) and let its termination go on once the worker has stopped. Scoped by the group's ARN."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReportHealthAndTerminationToTheOwnGroup",
                    "Effect": "Allow",
                    "Action": ["autoscaling:CompleteLifecycleAction", "autoscaling:SetInstanceHealth"],
                    "Resource": group_arn,
                }
            ],
        },
        sort_keys=True,
    )
