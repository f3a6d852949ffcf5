"""The EKS control plane: its IAM role, the KMS key that envelope-encrypts Kubernetes Secrets, the log group of
its api/audit/authenticator logs, access entries for the deploying role (and an optional admin role), and the
Kubernetes provider the rest of tier B deploys through.

Plain pulumi-aws resources, not pulumi-eks: the multi-language component hides its children from the Python
mock engine, so the plan, the policy rules and the cost estimator could not see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as kubernetes

from infra.planning.kubernetes.iam import (
    CLUSTER_ADMIN_ACCESS_POLICY,
    CLUSTER_POLICY,
    EKS_SERVICE,
    secrets_encryption_policy,
    service_trust_policy,
)
from infra.planning.kubernetes.kubeconfig import kubeconfig
from infra.planning.naming import child_name, name_tag
from infra.planning.protection import Protection

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator")
"""Who called the API and what they did, and who authenticated: the audit trail. controllerManager and
scheduler logs are noisy and billed per GB; turn them on when debugging those components."""
KMS_DELETION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class EksClusterArgs:
    name_prefix: str
    cluster_name: str
    """The physical name: fixed, because the log group `/aws/eks/<name>/cluster` must exist before the cluster."""
    region: str
    version: str
    subnet_ids: Sequence[pulumi.Input[str]]
    """The private subnets of every AZ: the control plane's network interfaces."""
    public_access_cidrs: Sequence[str]
    """Empty: the API endpoint is private only."""
    admin_role_arn: str
    log_retention_days: int
    guard: Protection


class EksCluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    version: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    """The cluster security group EKS creates: the control plane's and (with no group in their launch template)
    every node's, so every pod's."""
    kubeconfig: pulumi.Output[str]
    provider: kubernetes.Provider
    eks: aws.eks.Cluster

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:kubernetes:EksCluster", name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(
            parent=self, protect=args.guard.protect, retain_on_delete=args.guard.retain_on_delete
        )

        role = aws.iam.Role(
            child_name(name, "role"),
            assume_role_policy=service_trust_policy(EKS_SERVICE),
            description=f"{args.name_prefix} EKS control plane",
            tags=name_tag(args.name_prefix, "eks-cluster"),
            opts=child,
        )
        cluster_policy = aws.iam.RolePolicyAttachment(
            child_name(name, "role-cluster-policy"), role=role.id, policy_arn=CLUSTER_POLICY, opts=child
        )
        # Kept in production: without it the cluster's Secrets (and their backups) are unreadable.
        key = aws.kms.Key(
            child_name(name, "secrets-key"),
            description=f"{args.name_prefix} EKS: envelope encryption of Kubernetes Secrets",
            enable_key_rotation=True,
            deletion_window_in_days=KMS_DELETION_WINDOW_DAYS,
            tags=name_tag(args.name_prefix, "eks-secrets"),
            opts=kept,
        )
        aws.kms.Alias(
            child_name(name, "secrets-key-alias"),
            name=f"alias/{args.cluster_name}-eks-secrets",
            target_key_id=key.key_id,
            opts=child,
        )
        key_policy = aws.iam.RolePolicy(
            child_name(name, "role-secrets-key"),
            role=role.id,
            policy=key.arn.apply(secrets_encryption_policy),
            opts=child,
        )
        # Created first with the stack's retention: EKS would otherwise create it on its own, kept forever.
        log_group = aws.cloudwatch.LogGroup(
            child_name(name, "logs"),
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=args.log_retention_days,
            tags=name_tag(args.name_prefix, "eks-control-plane-logs"),
            opts=kept,
        )
        public = list(args.public_access_cidrs)
        self.eks = aws.eks.Cluster(
            child_name(name, "eks"),
            name=args.cluster_name,
            role_arn=role.arn,
            version=args.version,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(args.subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=bool(public),
                public_access_cidrs=public or None,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn), resources=["secrets"]
            ),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            # The access-entry API only, never the aws-auth ConfigMap; the creator gets no implicit admin (changing
            # that flag later replaces the cluster, pulumi/pulumi-aws#3997): an explicit entry below instead.
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API", bootstrap_cluster_creator_admin_permissions=False
            ),
            # No unmanaged default add-ons: the cluster runs exactly the pinned managed ones (addons.py).
            bootstrap_self_managed_addons=False,
            # Never billed at the extended-support rate: past standard support EKS upgrades the control plane.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            deletion_protection=args.guard.deletion_protection,
            tags=name_tag(args.name_prefix, "eks"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster_policy, key_policy, log_group]),
        )

        # The role that runs `pulumi up` (its role ARN, not the STS session's: terraform-aws-eks main.tf).
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        deployer = aws.iam.get_session_context_output(arn=caller.arn, opts=pulumi.InvokeOutputOptions(parent=self))
        admins = [self._cluster_admin("deployer", deployer.issuer_arn, args)]
        if args.admin_role_arn:
            admins.append(self._cluster_admin("admin-role", args.admin_role_arn, args))

        self.cluster_name = self.eks.name
        self.version = self.eks.version
        self.security_group_id = self.eks.vpc_config.apply(lambda vpc: vpc.cluster_security_group_id or "")
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.eks.name, self.eks.endpoint, self.eks.certificate_authority.data).apply(
                lambda values: kubeconfig(
                    cluster_name=values[0],
                    endpoint=values[1],
                    certificate_authority=values[2] or "",
                    region=args.region,
                )
            )
        )
        # Every Kubernetes object goes through this provider; it can act only once the deployer is an admin.
        self.provider = kubernetes.Provider(
            child_name(name, "kubernetes"),
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self, depends_on=admins),
        )
        self.register_outputs(
            {"clusterName": self.cluster_name, "securityGroupId": self.security_group_id, "kubeconfig": self.kubeconfig}
        )

    def _cluster_admin(
        self, slug: str, principal_arn: pulumi.Input[str], args: EksClusterArgs
    ) -> aws.eks.AccessPolicyAssociation:
        entry = aws.eks.AccessEntry(
            child_name(self._name, slug, "access"),
            cluster_name=self.eks.name,
            principal_arn=principal_arn,
            type="STANDARD",
            tags=name_tag(args.name_prefix, "eks", slug),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.eks.AccessPolicyAssociation(
            child_name(self._name, slug, "cluster-admin"),
            cluster_name=self.eks.name,
            principal_arn=entry.principal_arn,
            policy_arn=CLUSTER_ADMIN_ACCESS_POLICY,
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=pulumi.ResourceOptions(parent=self),
        )
