"""Container Insights on tier B: the amazon-cloudwatch-observability EKS add-on (the CloudWatch agent, which
publishes the nodes' and pods' metrics the alarms and the dashboard read, and Fluent Bit, which ships every
container's logs to CloudWatch Logs), with its own EKS Pod Identity role, at a pinned version.

The log groups the add-on writes to are created here first, with the stack's retention (the agent would
otherwise create them kept forever, and billed for it): `/aws/containerinsights/<cluster>/performance` (the
metrics' source events) and `/application` (the containers' logs). On Amazon Linux 2023 nodes the add-on ships
no host and dataplane logs by default (CloudWatch user guide, "Setting up Container Insights on Amazon EKS"), so
those groups are not made.

The role carries AWS's CloudWatchAgentServerPolicy, as the add-on's guide prescribes: what the agent and Fluent
Bit call changes with the add-on's features (metrics, logs, Application Signals), and AWS keeps that policy in
step with the add-on; its writes are metrics and log events only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.catalog.kubernetes_versions import CLOUDWATCH_OBSERVABILITY, ClusterVersion
from infra.planning.kubernetes.iam import pod_identity_trust_policy
from infra.planning.naming import child_name, name_tag
from infra.planning.protection import Protection

AGENT_NAMESPACE = "amazon-cloudwatch"
AGENT_SERVICE_ACCOUNT = "cloudwatch-agent"
"""The add-on's service account (its Pod Identity association names it; the namespace is the add-on's own)."""
AGENT_POLICY = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
LOG_GROUPS = ("performance", "application")


def container_insights_log_group(cluster_name: str, kind: str) -> str:
    return f"/aws/containerinsights/{cluster_name}/{kind}"


@dataclass(frozen=True)
class ContainerInsightsArgs:
    name_prefix: str
    cluster_name: str
    """The cluster's fixed name: the log groups carry it and must exist before the agent starts."""
    cluster: pulumi.Input[str]
    """The cluster resource's name output (the add-on waits for the cluster)."""
    versions: ClusterVersion
    log_retention_days: int
    guard: Protection


class ContainerInsights(pulumi.ComponentResource):
    addon: aws.eks.Addon

    def __init__(self, name: str, args: ContainerInsightsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:kubernetes:ContainerInsights", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if not args.versions.observability_addon:
            raise ValueError(f"no {CLOUDWATCH_OBSERVABILITY} version pinned for Kubernetes {args.versions.version}")
        log_groups = [
            aws.cloudwatch.LogGroup(
                child_name(name, kind),
                name=container_insights_log_group(args.cluster_name, kind),
                retention_in_days=args.log_retention_days,
                tags=name_tag(args.name_prefix, "container-insights", kind),
                opts=pulumi.ResourceOptions(
                    parent=self, protect=args.guard.protect, retain_on_delete=args.guard.retain_on_delete
                ),
            )
            for kind in LOG_GROUPS
        ]
        role = aws.iam.Role(
            child_name(name, "role"),
            assume_role_policy=pod_identity_trust_policy(),
            description=f"{args.name_prefix} CloudWatch agent and Fluent Bit (Container Insights)",
            tags=name_tag(args.name_prefix, "container-insights"),
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            child_name(name, "role-agent-policy"), role=role.id, policy_arn=AGENT_POLICY, opts=child
        )
        self.addon = aws.eks.Addon(
            child_name(name, "addon"),
            cluster_name=args.cluster,
            addon_name=CLOUDWATCH_OBSERVABILITY,
            addon_version=args.versions.observability_addon,
            # Credentials are injected at pod start: the association exists with the add-on, before its pods.
            pod_identity_associations=[
                aws.eks.AddonPodIdentityAssociationArgs(role_arn=role.arn, service_account=AGENT_SERVICE_ACCOUNT)
            ],
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=name_tag(args.name_prefix, "eks-addon", CLOUDWATCH_OBSERVABILITY),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment, *log_groups]),
        )
        self.register_outputs({"addon": self.addon.addon_name})
