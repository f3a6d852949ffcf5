"""The NAT instance of `natStrategy=instance` (development only): its boot script and its IAM documents, pure.

The design is fck-nat's (github.com/AndrewGuenther/fck-nat, and its Terraform module RaJiska/terraform-aws-fck-nat),
on AWS's own Amazon Linux 2023 image rather than a third party's AMI:
- a static network interface in the first public subnet, with source/destination checking off, is the target of
  every private route table's default route; it outlives any instance, so the routes never change;
- an Auto Scaling group of exactly one instance in that subnet heals the NAT: a failed instance is replaced, and
  the new one attaches the static interface at boot (retrying until the old one has released it);
- the instance's own primary interface has a public IPv4 address and is the way out: the boot script turns source/
  destination checking off on it too, enables IPv4 forwarding and masquerades what leaves through it.
One instance in one AZ: a single point of failure for the development stack's egress, hence refused in production.
"""

from __future__ import annotations

import json
import shlex
from typing import Final

NAT_INSTANCE_TYPE: Final = "t4g.nano"
"""2 vCPUs (burstable), 0.5 GiB, up to 5 Gbit/s: a development stack's image pulls and updates, for about $3 a month."""
ROOT_VOLUME_GB: Final = 8
"""The size of Amazon Linux 2023's AMI snapshot: the smallest root volume it boots from."""
ROLE_TAG: Final = {"Role": "nat"}
"""Marks the NAT instance's launch template and instances: the one machine the policy allows a public IPv4 address
(rule ec2-public-ip-only-on-nat), and the resources its role may attach and modify (its IAM condition)."""
NAT_INTERFACE_DEVICE_INDEX: Final = 1


def nat_boot_script(*, region: str, interface_id: str) -> str:
    """The instance's user data: attach the static interface, forward and masquerade. Runs at first boot of each
    instance (the group replaces instances; it never reboots them into another role)."""
    return f"""#!/bin/bash
# NAT instance boot (infra/planning/nat_instance.py): attach the static interface the private routes point at,
# then forward IPv4 and masquerade it out through this instance's own public interface.
set -euo pipefail
region={shlex.quote(region)}
interface_id={shlex.quote(interface_id)}
token=$(curl -sS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' http://169.254.169.254/latest/api/token)
metadata() {{ curl -sS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"; }}
instance_id=$(metadata instance-id)
primary_interface=$(metadata "network/interfaces/macs/$(metadata mac)/interface-id")

# This instance forwards packets that are not its own, out through its primary interface.
aws ec2 modify-network-interface-attribute --region "$region" --network-interface-id "$primary_interface" \\
  --no-source-dest-check
# The interface stays attached to a failed instance until that one is gone: retry until it is free.
until ip link show dev "$interface_id" >/dev/null 2>&1 || aws ec2 attach-network-interface --region "$region" \\
    --instance-id "$instance_id" --network-interface-id "$interface_id" --device-index {NAT_INTERFACE_DEVICE_INDEX}; do
  sleep 5
done
# Amazon Linux 2023 names each interface after its network interface id as well (amazon-ec2-net-utils).
until ip link show dev "$interface_id" >/dev/null 2>&1; do sleep 1; done

cat > /etc/sysctl.d/90-nat.conf <<'EOF'
net.ipv4.ip_forward = 1
net.ipv4.conf.all.rp_filter = 0
net.ipv4.conf.default.rp_filter = 0
EOF
sysctl --system >/dev/null
for setting in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 > "$setting"; done

until dnf install -y -q iptables-nft; do sleep 10; done
public_device=$(ip -o link show dev "$primary_interface" | awk -F': ' '{{print $2}}' | cut -d@ -f1)
iptables -t nat -C POSTROUTING -o "$public_device" -j MASQUERADE 2>/dev/null \\
  || iptables -t nat -A POSTROUTING -o "$public_device" -j MASQUERADE
"""


def nat_instance_permissions(name: str) -> str:
    """Attach the static interface and turn off source/destination checking: only on network interfaces and
    instances tagged as this stack's NAT (Name `name` and the role tag: the launch template tags the instance and
    its interface, the static interface is tagged where it is created), never another stack's."""
    tagged = {
        "StringEquals": {"ec2:ResourceTag/Name": name, **{f"ec2:ResourceTag/{k}": v for k, v in ROLE_TAG.items()}}
    }
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AttachTheStaticInterface",
                    "Effect": "Allow",
                    "Action": ["ec2:AttachNetworkInterface", "ec2:ModifyNetworkInterfaceAttribute"],
                    "Resource": "*",
                    "Condition": tagged,
                }
            ],
        },
        sort_keys=True,
    )
