"""A workload's own AWS identity: an IAM role only EKS Pod Identity may assume, one inline policy, and the
association that binds it to one service account of one namespace (built under the workload's component)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.planning.kubernetes.iam import pod_identity_trust_policy
from infra.planning.naming import child_name, name_tag


@dataclass(frozen=True)
class PodIdentity:
    role: aws.iam.Role
    association: aws.eks.PodIdentityAssociation
    """Pods get credentials when they start: create their Deployment (or chart) after this
    (aws-load-balancer-controller#2627)."""


def pod_identity(
    parent: pulumi.Resource,
    name: str,
    *,
    name_prefix: str,
    cluster_name: pulumi.Input[str],
    namespace: str,
    service_account: str,
    policy: pulumi.Input[str],
    description: str,
) -> PodIdentity:
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        child_name(name, "role"),
        assume_role_policy=pod_identity_trust_policy(),
        description=description,
        tags=name_tag(name_prefix, name),
        opts=child,
    )
    role_policy = aws.iam.RolePolicy(child_name(name, "role-policy"), role=role.id, policy=policy, opts=child)
    association = aws.eks.PodIdentityAssociation(
        child_name(name, "identity"),
        cluster_name=cluster_name,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        tags=name_tag(name_prefix, name),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[role_policy]),
    )
    return PodIdentity(role=role, association=association)
