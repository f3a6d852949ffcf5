"""The NAT instance of `natStrategy=instance` (development only), built under the network component: a static
network interface the private routes point at, and an Auto Scaling group of one instance that attaches it at boot
(infra/planning/nat_instance.py has the design and the boot script)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network

import pulumi
import pulumi_aws as aws

from infra.planning.compute.ami import Architecture, al2023_ami_parameter
from infra.planning.compute.instance_policy import ec2_assume_role_policy
from infra.planning.naming import child_name, name_tag
from infra.planning.nat_instance import (
    NAT_INSTANCE_TYPE,
    ROLE_TAG,
    ROOT_VOLUME_GB,
    nat_boot_script,
    nat_instance_permissions,
)

HTTPS = 443
ROOT_DEVICE = "/dev/xvda"  # Amazon Linux 2023's root device name


@dataclass(frozen=True)
class NatInstanceArgs:
    name_prefix: str
    region: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: IPv4Network
    subnet_id: pulumi.Input[str]
    """The public subnet the instance and its static interface live in (one AZ)."""
    tags: Mapping[str, str]
    """The stack's tags, for the instance and its volume (provider default tags do not reach them)."""
    ports: tuple[int, ...] = (443,)
    """The TCP ports it forwards (the app's internet egress); it needs HTTPS itself (EC2 API, packages)."""


class NatInstance(pulumi.ComponentResource):
    network_interface_id: pulumi.Output[str]
    """The static interface: the private route tables' default route targets it."""
    auto_scaling_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: NatInstanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:network:NatInstance", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        nat_name = f"{args.name_prefix}-nat"
        tags = {**name_tag(args.name_prefix, "nat"), **ROLE_TAG}

        group = aws.ec2.SecurityGroup(
            child_name(name, "sg"),
            vpc_id=args.vpc_id,
            description="NAT instance: forwards the outbound traffic of the VPC to the internet",
            tags=tags,
            opts=child,
        )
        # Only the ports the app's own security group lets out: the NAT is no wider a door than the app's egress.
        for port in sorted({*args.ports, HTTPS}):
            aws.vpc.SecurityGroupIngressRule(
                child_name(name, "from-vpc", port),
                security_group_id=group.id,
                description=f"TCP {port} from the VPC, forwarded to the internet",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=str(args.vpc_cidr),
                tags=name_tag(args.name_prefix, "nat", "from-vpc", port),
                opts=child,
            )
            aws.vpc.SecurityGroupEgressRule(
                child_name(name, "to-internet", port),
                security_group_id=group.id,
                description=f"TCP {port} to the internet",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4="0.0.0.0/0",
                tags=name_tag(args.name_prefix, "nat", "to-internet", port),
                opts=child,
            )
        interface = aws.ec2.NetworkInterface(
            child_name(name, "eni"),
            subnet_id=args.subnet_id,
            security_groups=[group.id],
            # Packets addressed elsewhere pass through it: source/destination checking off.
            source_dest_check=False,
            description=f"{nat_name}: static interface the private routes point at",
            tags=tags,
            opts=child,
        )
        role = aws.iam.Role(
            child_name(name, "role"),
            assume_role_policy=ec2_assume_role_policy(),
            description=f"{nat_name}: attach its static interface, turn off source/destination checking",
            tags=tags,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            child_name(name, "role-policy"), role=role.id, policy=nat_instance_permissions(nat_name), opts=child
        )
        profile = aws.iam.InstanceProfile(
            child_name(name, "profile"),
            role=role.name,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        # Development only, so it follows the newest AL2023 release (a plain invoke: known at preview).
        image_id = aws.ssm.get_parameter(
            name=al2023_ami_parameter(Architecture.ARM64), opts=pulumi.InvokeOptions(parent=self)
        ).value
        user_data = interface.id.apply(
            lambda interface_id: base64.b64encode(
                nat_boot_script(region=args.region, interface_id=interface_id).encode()
            ).decode()
        )
        launched_tags = {**args.tags, **tags}
        template = aws.ec2.LaunchTemplate(
            child_name(name, "template"),
            description=f"{nat_name}: NAT instance",
            image_id=image_id,
            instance_type=NAT_INSTANCE_TYPE,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            user_data=user_data,
            update_default_version=True,
            # The way out: a public IPv4 address on the primary interface (the one machine allowed one).
            network_interfaces=[
                aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                    device_index=0,
                    subnet_id=args.subnet_id,
                    security_groups=[group.id],
                    associate_public_ip_address="true",
                    delete_on_termination="true",
                )
            ],
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",  # IMDSv2 only
                http_put_response_hop_limit=1,  # no container on it: the credentials stay on the host
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=ROOT_VOLUME_GB,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            # Standard credits: a busy NAT is throttled to its baseline rather than billed for surplus credits.
            credit_specification=aws.ec2.LaunchTemplateCreditSpecificationArgs(cpu_credits="standard"),
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=False),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=launched_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            tags=tags,
            opts=child,
        )
        group_of_one = aws.autoscaling.Group(
            child_name(name, "asg"),
            vpc_zone_identifiers=[args.subnet_id],
            min_size=1,
            max_size=1,
            desired_capacity=1,
            # EC2's status checks: a failed instance is replaced, and the new one takes over the interface.
            health_check_type="EC2",
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            tags=[
                aws.autoscaling.GroupTagArgs(key=key, value=value, propagate_at_launch=False)
                for key, value in sorted(launched_tags.items())
            ],
            opts=child,
        )
        self.network_interface_id = interface.id
        self.auto_scaling_group_name = group_of_one.name
        self.register_outputs(
            {"networkInterfaceId": self.network_interface_id, "autoScalingGroupName": self.auto_scaling_group_name}
        )
