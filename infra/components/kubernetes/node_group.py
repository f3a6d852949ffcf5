"""The managed node group: AL2023 EKS nodes (Graviton by default) in the private subnets of every AZ, from a
launch template that requires IMDSv2 with a hop limit of 1 and gives each node an encrypted gp3 disk.

The hop limit of 1 keeps the node role's credentials on the host: pods (one hop further, behind the VPC CNI)
cannot reach the metadata service, so each workload gets AWS access through its own Pod Identity role only.
The launch template names no security group, so EKS keeps the cluster security group on the nodes and its
rules between control plane and nodes (kubelet, webhooks, metrics-server) apply (UG/launch-templates).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.planning.compute.scaling import FleetSize
from infra.planning.kubernetes.iam import EC2_SERVICE, NODE_POLICIES, service_trust_policy
from infra.planning.naming import child_name, name_tag

ROOT_DEVICE = "/dev/xvda"  # the AL2023 EKS AMI's root device
MAX_UNAVAILABLE_NODES = 1
"""A node update (new AMI, new launch template version, Kubernetes upgrade) replaces one node at a time."""


@dataclass(frozen=True)
class EksNodeGroupArgs:
    name_prefix: str
    cluster_name: pulumi.Input[str]
    kubernetes_version: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    instance_type: str
    is_graviton: bool
    size: FleetSize
    disk_gb: int
    tags: Mapping[str, str]
    """The stack's tags: nodes and their volumes get them at launch (provider default tags do not reach them)."""


def ami_type(*, is_graviton: bool) -> str:
    """AL2 images ended 2025-11-26 (awslabs/amazon-eks-ami#2545): Amazon Linux 2023 for either architecture."""
    return "AL2023_ARM_64_STANDARD" if is_graviton else "AL2023_x86_64_STANDARD"


class EksNodeGroup(pulumi.ComponentResource):
    node_group: aws.eks.NodeGroup
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: EksNodeGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:kubernetes:EksNodeGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            child_name(name, "role"),
            assume_role_policy=service_trust_policy(EC2_SERVICE),
            description=f"{args.name_prefix} EKS nodes: join the cluster, pod networking, pull images",
            tags=name_tag(args.name_prefix, "eks-node"),
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                child_name(name, "role", policy_arn.rsplit("/", 1)[1]), role=role.id, policy_arn=policy_arn, opts=child
            )
            for policy_arn in NODE_POLICIES
        ]
        node_tags = {**args.tags, **name_tag(args.name_prefix, "eks-node")}
        template = aws.ec2.LaunchTemplate(
            child_name(name, "template"),
            description=f"{args.name_prefix} EKS nodes",
            # No image (EKS picks the AL2023 EKS AMI of ami_type and merges its own user data), no security group
            # and no instance type (the node group names it, so the autoscaler sees it).
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=args.disk_gb, volume_type="gp3", encrypted="true", delete_on_termination="true"
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=node_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            update_default_version=True,
            tags=name_tag(args.name_prefix, "eks-node-template"),
            opts=child,
        )
        self.node_group = aws.eks.NodeGroup(
            child_name(name, "group"),
            cluster_name=args.cluster_name,
            node_role_arn=role.arn,
            subnet_ids=list(args.subnet_ids),
            ami_type=ami_type(is_graviton=args.is_graviton),
            instance_types=[args.instance_type],
            capacity_type="ON_DEMAND",
            # Nodes follow the control plane's version, so an upgrade rolls them right after it.
            version=args.kubernetes_version,
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=args.size.min_size, desired_size=args.size.desired_size, max_size=args.size.max_size
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=MAX_UNAVAILABLE_NODES),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            tags=name_tag(args.name_prefix, "eks-nodes"),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=attachments,
                # The Cluster Autoscaler owns the desired size once the group exists; `up` must not reset it.
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )
        self.role_arn = role.arn
        self.register_outputs({"nodeGroupName": self.node_group.node_group_name})
