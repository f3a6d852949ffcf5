"""EC2 fleets (Auto Scaling groups through their launch template, plain instances), EBS, and EKS."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from infra.cost.model import Category, Kind
from infra.cost.pricing import Bill, PricerSpec, PricingContext, Resource, integer

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
GP3_INCLUDED_IOPS = 3000
GP3_INCLUDED_THROUGHPUT_MBPS = 125
EKS_DEFAULT_INSTANCE_TYPE = "t3.medium"  # what EKS launches when a managed node group names no type
EKS_DEFAULT_DISK_GB = 20
DETAILED_MONITORING_METRICS = 7
"""What EC2 detailed monitoring bills an instance: its 7 one-minute metrics (the price table's source)."""


def _instance_hours(bill: Bill, instance_type: str, count: int, *, standard_credits: bool = False) -> None:
    bill.add(
        f"{count} x {instance_type} (Linux, on-demand)",
        Decimal(count) * bill.context.hours,
        f"ec2.instance.{instance_type}",
    )
    if instance_type.startswith("t") and not standard_credits:
        bill.context.warnings.append(
            f"{bill.resource.name}: {instance_type} is burstable; CPU credits used above its baseline (unlimited "
            "mode) are billed on top and are not in this estimate"
        )


def _volume(bill: Bill, label: str, ebs: Mapping[str, Any], count: int) -> None:
    """One EBS volume per instance: storage, plus gp3 IOPS and throughput above what gp3 includes."""
    size = integer(ebs.get("volumeSize") or ebs.get("size"))
    volume_type = ebs.get("volumeType") or ebs.get("type")
    if not size or not volume_type:
        bill.missing(f"{label}: no volume size or type in the plan (the AMI's defaults apply); not estimated")
        return
    bill.add(f"Storage ({volume_type}, {label})", Decimal(count * size), f"ebs.{volume_type}.storage")
    if volume_type != "gp3":
        return
    extra_iops = integer(ebs.get("iops"), GP3_INCLUDED_IOPS) - GP3_INCLUDED_IOPS
    if extra_iops > 0:
        bill.add(f"Provisioned IOPS above 3,000 (gp3, {label})", Decimal(count * extra_iops), "ebs.gp3.iops")
    extra_mbps = integer(ebs.get("throughput"), GP3_INCLUDED_THROUGHPUT_MBPS) - GP3_INCLUDED_THROUGHPUT_MBPS
    if extra_mbps > 0:
        bill.add(f"Throughput above 125 MB/s (gp3, {label})", Decimal(count * extra_mbps), "ebs.gp3.throughput")


def _template_volumes(bill: Bill, template: Resource, count: int) -> None:
    for index, mapping in enumerate(template.get("blockDeviceMappings", default=[])):
        ebs = mapping.get("ebs") if isinstance(mapping, Mapping) else None
        if isinstance(ebs, Mapping):
            device = mapping.get("deviceName") or f"block device {index}"
            _volume(bill, f"{device} of each instance", ebs, count)


def find_launch_template(spec: Mapping[str, Any], owner: Resource, context: PricingContext) -> Resource | None:
    """The launch template an ASG or node group names: by the plan's id, else by name, else the only launch
    template under the same component (the ids of a real preview are unknown until apply)."""
    template_id = spec.get("id") or spec.get("launchTemplateId")
    if isinstance(template_id, str) and (found := context.plan.by_mock_id(template_id)) is not None:
        return found
    name = spec.get("name") or spec.get("launchTemplateName")
    templates = context.plan.of_type(LAUNCH_TEMPLATE)
    if isinstance(name, str):
        named = [t for t in templates if name in (t.name, t.get("name"))]
        if len(named) == 1:
            return named[0]
    siblings = [t for t in templates if t.parent == owner.parent]
    return siblings[0] if len(siblings) == 1 else None


def _autoscaling_group(bill: Bill) -> None:
    group = bill.resource
    # AWS starts a group at its desired capacity, or at its minimum when none is set.
    count = integer(group.get("desiredCapacity"), integer(group.get("minSize")))
    mixed = group.get("mixedInstancesPolicy", "launchTemplate", default={})
    spec = group.get("launchTemplate") or mixed.get("launchTemplateSpecification") or {}
    template = find_launch_template(spec, group, bill.context)
    if template is None:
        bill.missing("its launch template is not in the plan (neither by id nor by component): instances unpriced")
        return
    overrides = mixed.get("overrides") or []
    override_type = overrides[0].get("instanceType") if overrides and isinstance(overrides[0], Mapping) else None
    instance_type = override_type or template.get("instanceType")
    if not instance_type:
        bill.missing(f"launch template {template.name} names no instance type")
        return
    standard = template.get("creditSpecification", "cpuCredits") == "standard"
    _instance_hours(bill, instance_type, count, standard_credits=standard)
    _template_volumes(bill, template, count)
    _detailed_monitoring(bill, template, count)
    _public_addresses(bill, template, count)


def _public_addresses(bill: Bill, template: Resource, count: int) -> None:
    """An instance whose launch template gives it a public IPv4 address (the NAT instance) pays for it by the hour,
    like any public IPv4 address."""
    interfaces = [i for i in template.get("networkInterfaces", default=[]) if isinstance(i, Mapping)]
    public = sum(1 for i in interfaces if str(i.get("associatePublicIpAddress")).lower() == "true")
    if public:
        bill.add(
            f"Public IPv4 address{'es' if count * public != 1 else ''} (one per instance's interface)",
            Decimal(count * public) * bill.context.hours,
            "vpc.public-ipv4",
            category=Category.NETWORK,
        )


def _detailed_monitoring(bill: Bill, template: Resource, count: int) -> None:
    """One-minute instance metrics (`monitoring.enabled` on the launch template) are CloudWatch metrics, billed per
    instance whatever the traffic; basic five-minute monitoring is free."""
    if template.get("monitoring", "enabled") is not True:
        return
    bill.add(
        f"EC2 detailed monitoring ({count} instance(s) x {DETAILED_MONITORING_METRICS} metrics)",
        Decimal(count * DETAILED_MONITORING_METRICS),
        "cloudwatch.ec2-detailed-monitoring",
        category=Category.MONITORING,
    )


def _instance(bill: Bill) -> None:
    instance = bill.resource
    instance_type = instance.get("instanceType")
    if not instance_type:
        bill.missing("no instance type in the plan")
        return
    _instance_hours(bill, instance_type, 1)
    root = instance.get("rootBlockDevice", default={})
    if root:
        _volume(bill, "root volume", root, 1)
    for index, device in enumerate(instance.get("ebsBlockDevices", default=[])):
        _volume(bill, f"EBS volume {index}", device, 1)


def _ebs_volume(bill: Bill) -> None:
    _volume(bill, "volume", {"size": bill.resource.get("size"), "type": bill.resource.get("type") or "gp2"}, 1)


def _scaling_policy(bill: Bill) -> None:
    """A target tracking policy makes EC2 Auto Scaling create and manage CloudWatch alarms for it (one that scales
    out, one that scales in unless scale-in is disabled): real alarms, billed like any other, that the plan never
    shows. Step and simple policies use alarms the program declares itself (priced there); predictive scaling
    uses none."""
    policy = bill.resource
    if policy.get("policyType") != "TargetTrackingScaling":
        bill.free("the policy itself costs nothing; the alarms that trigger it are priced where they are declared")
        return
    alarms = 1 if policy.get("targetTrackingConfiguration", "disableScaleIn") is True else 2
    # A metric math specification is billed per metric it reads; a predefined or single metric is one.
    metrics = policy.get("targetTrackingConfiguration", "customizedMetricSpecification", "metrics", default=[])
    per_alarm = max(1, len([m for m in metrics if isinstance(m, Mapping) and m.get("metricStat")]))
    what = "scale-out alarm" if alarms == 1 else "scale-out and scale-in alarms"
    bill.add(
        f"CloudWatch {what} the policy creates ({alarms * per_alarm} alarm metric(s), not in the plan)",
        Decimal(alarms * per_alarm),
        "cloudwatch.alarm.standard",
        category=Category.MONITORING,
    )


def _eks_cluster(bill: Bill) -> None:
    bill.add("EKS control plane (standard support)", bill.context.hours, "eks.cluster")


def _eks_node_group(bill: Bill) -> None:
    group = bill.resource
    count = integer(group.get("scalingConfig", "desiredSize"), integer(group.get("scalingConfig", "minSize")))
    spec = group.get("launchTemplate", default={})
    template = find_launch_template(spec, group, bill.context) if spec else None
    types = group.get("instanceTypes", default=[])
    instance_type = (types[0] if types else None) or (template.get("instanceType") if template else None)
    instance_type = instance_type or EKS_DEFAULT_INSTANCE_TYPE
    if group.get("capacityType") == "SPOT":
        bill.context.warnings.append(f"{group.name}: spot nodes are priced at on-demand rates (spot prices vary)")
    _instance_hours(bill, instance_type, count)
    if template is not None:
        _template_volumes(bill, template, count)
    else:
        disk = integer(group.get("diskSize"), EKS_DEFAULT_DISK_GB)
        _volume(bill, "node disk", {"volumeSize": disk, "volumeType": "gp2"}, count)


CONTAINER_INSIGHTS_ADDON = "amazon-cloudwatch-observability"


def _eks_addon(bill: Bill) -> None:
    """An add-on runs on the priced nodes; Container Insights also publishes metrics, which CloudWatch bills."""
    if bill.resource.get("addonName") != CONTAINER_INSIGHTS_ADDON:
        bill.free("the add-ons run on the priced nodes")
        return
    # Its log groups are in the plan and priced (ingestion, storage); its metrics are not resources.
    bill.missing(
        "Container Insights metrics: billed per observation (enhanced observability), so by how many nodes, pods and"
        " containers run; no sourced per-observation price in the table (AWS's pricing calculator gives it)",
        Kind.USAGE,
    )


PRICERS = {
    "aws:eks/addon:Addon": PricerSpec(_eks_addon, Category.MONITORING),
    "aws:autoscaling/group:Group": PricerSpec(_autoscaling_group, Category.COMPUTE),
    "aws:ec2/instance:Instance": PricerSpec(_instance, Category.COMPUTE),
    "aws:ebs/volume:Volume": PricerSpec(_ebs_volume, Category.COMPUTE),
    "aws:eks/cluster:Cluster": PricerSpec(_eks_cluster, Category.COMPUTE),
    "aws:eks/nodeGroup:NodeGroup": PricerSpec(_eks_node_group, Category.COMPUTE),
    "aws:autoscaling/policy:Policy": PricerSpec(_scaling_policy, Category.MONITORING),
}

FREE = {
    LAUNCH_TEMPLATE: "a template; its instances and volumes are priced on the Auto Scaling group or node group",
    "aws:autoscaling/attachment:Attachment": "no charge",
    "aws:eks/accessEntry:AccessEntry": "no charge",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": "no charge",
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": "no charge",
    "aws:ec2/keyPair:KeyPair": "no charge",
}
