"""The IAM documents of tier B, pure JSON: who may assume each role, and what each identity may do.

Every workload identity is an EKS Pod Identity role (trusted by pods.eks.amazonaws.com, bound to one service
account by an association): no OIDC provider to manage, and the same mechanism for the app, the load balancer
controller and the autoscaler. Nodes never lend their role to pods: the launch template's metadata hop limit
of 1 keeps the instance credentials on the host.

Where an action has no resource-level permissions AWS requires `"Resource": "*"`; each such action is listed
in `ACTIONS_WITHOUT_RESOURCE_SCOPE`, and the tests allow `*` for those only.
"""

from __future__ import annotations

import json
from typing import Any

EKS_SERVICE = "eks.amazonaws.com"
EC2_SERVICE = "ec2.amazonaws.com"
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"

# AWS managed policies the roles need (docs.aws.amazon.com/eks/latest/userguide/cluster-iam-role.html and
# create-node-role.html). The node role gets ECR pull-only, not the older ReadOnly (which also lists and describes).
CLUSTER_POLICY = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
NODE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
)
CLUSTER_ADMIN_ACCESS_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

# The load balancer controller only registers pods into a target group Pulumi owns (TargetGroupBinding), so it
# gets the subset its installation guide lists for that case (docs/deploy/installation.md at v3.5.0, "You only
# want the LBC to add and remove IPs to already existing target groups"), the writes scoped to that one group.
LOAD_BALANCER_CONTROLLER_DESCRIBE = (
    "ec2:DescribeInstances",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
)
LOAD_BALANCER_CONTROLLER_WRITE = (
    "elasticloadbalancing:DeregisterTargets",
    "elasticloadbalancing:ModifyTargetGroup",
    "elasticloadbalancing:ModifyTargetGroupAttributes",
    "elasticloadbalancing:RegisterTargets",
)
# The Cluster Autoscaler with auto-discovery (kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md,
# "Full Cluster Autoscaler Features Policy"), its two writes restricted to Auto Scaling groups tagged for this
# cluster: EKS tags a managed node group's group k8s.io/cluster-autoscaler/<cluster>=owned.
CLUSTER_AUTOSCALER_DESCRIBE = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
    "eks:DescribeNodegroup",
)
CLUSTER_AUTOSCALER_WRITE = ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")

ACTIONS_WITHOUT_RESOURCE_SCOPE = frozenset({*LOAD_BALANCER_CONTROLLER_DESCRIBE, *CLUSTER_AUTOSCALER_DESCRIBE})


def _document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def service_trust_policy(service: str) -> str:
    """Trust for an AWS service: the EKS control plane also tags its sessions (sts:TagSession)."""
    actions = ["sts:AssumeRole", "sts:TagSession"] if service == EKS_SERVICE else "sts:AssumeRole"
    return _document([{"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}])


def pod_identity_trust_policy() -> str:
    """Trust for EKS Pod Identity (docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html): the agent assumes
    the role and tags the session with the cluster, namespace and service account."""
    return _document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": POD_IDENTITY_SERVICE},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ]
    )


def secrets_encryption_policy(key_arn: str) -> str:
    """What the cluster role needs on its envelope-encryption key (UG/enable-kms; terraform-aws-eks main.tf)."""
    return _document(
        [
            {
                "Sid": "EnvelopeEncryptionOfSecrets",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"],
                "Resource": key_arn,
            }
        ]
    )


def load_balancer_controller_policy(target_group_arn: str) -> str:
    return _document(
        [
            {
                "Sid": "DiscoverTargets",
                "Effect": "Allow",
                "Action": list(LOAD_BALANCER_CONTROLLER_DESCRIBE),
                "Resource": "*",
            },
            {
                "Sid": "RegisterPodsInTheAppTargetGroup",
                "Effect": "Allow",
                "Action": list(LOAD_BALANCER_CONTROLLER_WRITE),
                "Resource": target_group_arn,
            },
        ]
    )


def cluster_autoscaler_policy(cluster_name: str) -> str:
    return _document(
        [
            {
                "Sid": "DiscoverNodeGroups",
                "Effect": "Allow",
                "Action": list(CLUSTER_AUTOSCALER_DESCRIBE),
                "Resource": "*",
            },
            {
                "Sid": "ScaleOnlyThisClustersNodeGroups",
                "Effect": "Allow",
                "Action": list(CLUSTER_AUTOSCALER_WRITE),
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned",
                        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
                    }
                },
            },
        ]
    )


def app_pod_policy(app_secret_arn: str, files_bucket_arn: str) -> str:
    """The app's pods: the app's own secret (read only) and the files bucket's objects, nothing else. The pods get
    their settings from a Kubernetes Secret; reading the source secret is for parity with the EC2 tiers (a pod can
    re-read it) and is scoped to that one ARN."""
    return _document(
        [
            {
                "Sid": "ReadTheAppSecret",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": app_secret_arn,
            },
            {"Sid": "ListTheFilesBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": files_bucket_arn},
            {
                # The app presigns uploads and downloads with the pod's credentials and deletes files.
                "Sid": "UseTheFilesBucketObjects",
                "Effect": "Allow",
                "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                "Resource": f"{files_bucket_arn}/*",
            },
        ]
    )


JOBS_METRICS_NAMESPACE = "Contentry/Jobs"
PUT_METRIC_DATA = "cloudwatch:PutMetricData"
"""Has no resource-level permissions (Service Authorization Reference, Amazon CloudWatch): `*` with the
`cloudwatch:namespace` condition key, which scopes it to one namespace."""


def worker_pod_policy(app_secret_arn: str, files_bucket_arn: str) -> str:
    """The job workers: the app's secret (read only) and the files bucket's objects, the quarantine prefix
    included (moving a file there is a copy, GetObject and PutObject, then a DeleteObject), nothing else."""
    return _document(
        [
            {
                "Sid": "ReadTheAppSecret",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": app_secret_arn,
            },
            {"Sid": "ListTheFilesBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": files_bucket_arn},
            {
                "Sid": "ProcessAndQuarantineUploads",
                "Effect": "Allow",
                "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                "Resource": f"{files_bucket_arn}/*",
            },
        ]
    )


def queue_metrics_policy() -> str:
    """The queue metrics exporter: publish metrics into Contentry/Jobs only. It reads Redis and MongoDB with the
    credentials of the Kubernetes Secret, so it needs no other AWS permission."""
    return _document(
        [
            {
                "Sid": "PublishJobQueueMetrics",
                "Effect": "Allow",
                "Action": PUT_METRIC_DATA,
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": JOBS_METRICS_NAMESPACE}},
            }
        ]
    )
