"""EC2 instances and launch templates: IMDSv2 only, a short metadata hop limit, encrypted volumes, no SSH key.

Launch templates and instances spell these settings the same way (`metadataOptions`), their disks not.
"""

from __future__ import annotations

from collections.abc import Iterator

from infra.policy.model import Resource, get, is_true, items, present

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
MACHINE_TYPES = (LAUNCH_TEMPLATE, INSTANCE)

MAX_HOP_LIMIT = 2
"""1 keeps the instance credentials on the host; 2 lets one container hop (Docker's bridge network) reach
them, which the app's containers need. More lets credentials travel further than the instance."""


def _metadata_disabled(resource: Resource) -> bool:
    return get(resource.inputs, "metadataOptions", "httpEndpoint") == "disabled"


def imdsv2_required(resource: Resource) -> Iterator[str]:
    if _metadata_disabled(resource):
        return
    tokens = get(resource.inputs, "metadataOptions", "httpTokens")
    if tokens != "required":
        yield (
            f"{resource.name} allows IMDSv1 (httpTokens is {tokens or 'unset, which defaults to optional'}): set "
            "metadata_options http_tokens='required', so a server-side request forgery cannot read the instance's "
            "credentials"
        )


def metadata_hop_limit(resource: Resource) -> Iterator[str]:
    if _metadata_disabled(resource):
        return
    hops = get(resource.inputs, "metadataOptions", "httpPutResponseHopLimit")
    if isinstance(hops, int | float) and hops > MAX_HOP_LIMIT:
        yield (
            f"{resource.name} lets the metadata token travel {hops} hops: set metadata_options "
            f"http_put_response_hop_limit to 1, or {MAX_HOP_LIMIT} when containers need the instance's role"
        )


def volumes_encrypted(resource: Resource) -> Iterator[str]:
    if resource.type == LAUNCH_TEMPLATE:
        mappings = items(resource.inputs, "blockDeviceMappings")
        volumes = [(get(m, "deviceName") or f"mapping {i}", get(m, "ebs")) for i, m in enumerate(mappings)]
        volumes = [(device, ebs) for device, ebs in volumes if ebs is not None]
        if not volumes:
            yield (
                f"{resource.name} declares no EBS volume, so the root volume's encryption is left to the AMI: add a "
                "block_device_mappings entry for the root device with ebs encrypted=True"
            )
        for device, ebs in volumes:
            if not is_true(get(ebs, "encrypted")):
                yield f"{resource.name}: the volume at {device} is not encrypted: set ebs encrypted=True"
        return
    if not is_true(get(resource.inputs, "rootBlockDevice", "encrypted")):
        yield f"{resource.name}: the root volume is not encrypted: set root_block_device encrypted=True"
    for index, volume in enumerate(items(resource.inputs, "ebsBlockDevices")):
        if not is_true(get(volume, "encrypted")):
            device = get(volume, "deviceName") or f"ebs block device {index}"
            yield f"{resource.name}: the volume at {device} is not encrypted: set encrypted=True"


NAT_ROLE_TAG = ("Role", "nat")
"""The tag of the one machine that needs a public IPv4 address: the development NAT instance (natStrategy=instance)."""


def _associates_public_ip(resource: Resource) -> bool:
    if resource.type == LAUNCH_TEMPLATE:
        return any(
            str(get(interface, "associatePublicIpAddress")).lower() == "true"
            for interface in items(resource.inputs, "networkInterfaces")
        )
    return is_true(get(resource.inputs, "associatePublicIpAddress"))


def public_ip_only_on_nat(resource: Resource) -> Iterator[str]:
    key, value = NAT_ROLE_TAG
    if _associates_public_ip(resource) and get(resource.inputs, "tags", key) != value:
        yield (
            f"{resource.name} gives its instances a public IPv4 address: app instances sit in private subnets behind "
            f"the load balancer and reach out through the NAT; only a NAT instance (tag {key}={value}) needs one"
        )


def no_key_pair(resource: Resource) -> Iterator[str]:
    if present(resource.inputs, "keyName"):
        key = resource.inputs["keyName"]
        yield (
            f"{resource.name} installs the SSH key pair {key}: remove key_name and reach instances with SSM Session "
            "Manager (aws ssm start-session), which needs no open port and logs every session"
        )
