"""How many app pods the node group holds: each node's allocatable capacity as EKS's AL2023 nodes compute it,
less the DaemonSets on every node and the cluster's own system pods. The config rules use it to refuse an HPA
maximum the nodes could never schedule.

Sources: the kubelet reservations are nodeadm's (awslabs/amazon-eks-ami nodeadm/internal/kubelet/config.go:
CPU reserved in ranges, 6% of the first core, 1% of the second, 0.5% of the next two, 0.25% of the rest; memory
11 MiB per pod of the node's max pods plus 255 MiB; eviction at 100 MiB available). Max pods follow the VPC CNI's
ENI formula, ENIs x (IPv4 addresses per ENI - 1) + 2, with the ENI limits EC2 documents for the c, m and r
families' Nitro sizes. The memory the hypervisor and kernel keep (a 16 GiB instance reports about 15.3 GiB) is
Karpenter's default VM_MEMORY_OVERHEAD_PERCENT, 7.5%.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

GIB_PER_VCPU: Final = {"c": 2, "m": 4, "r": 8}
"""Memory per vCPU of the compute-, general- and memory-optimized families (c7g.xlarge 8 GiB, m7g 16, r7g 32)."""
# size -> (vCPUs, ENIs, IPv4 addresses per ENI)
_SIZES: Final = {
    "large": (2, 3, 10),
    "xlarge": (4, 4, 15),
    "2xlarge": (8, 4, 15),
    "4xlarge": (16, 8, 30),
    "8xlarge": (32, 8, 30),
    "12xlarge": (48, 8, 30),
    "16xlarge": (64, 15, 50),
}
_NODE_TYPE = re.compile(r"^(?P<family>[cmr])\d+[a-z]*\.(?P<size>[0-9]*x?large)$")

VM_MEMORY_OVERHEAD: Final = 0.075
EVICTION_HARD_MIB: Final = 100
DAEMONSET_CPU_MILLICORES: Final = 150
"""Requests of the DaemonSets on every node: aws-node (vpc-cni, 25m) and kube-proxy (100m), rounded up for the
Pod Identity agent."""
DAEMONSET_MEMORY_MIB: Final = 256
DAEMONSET_PODS: Final = 3


@dataclass(frozen=True)
class Resources:
    cpu_millicores: int
    memory_mib: int


SYSTEM_PODS: Final = (
    ("coredns", 2, Resources(100, 70)),  # the add-on's default requests, two replicas
    ("metrics-server", 1, Resources(100, 200)),
    ("aws-load-balancer-controller", 2, Resources(100, 256)),  # helm_values.py sets these
    ("cluster-autoscaler", 1, Resources(100, 300)),
    # KEDA's three Deployments at the chart's default requests (keda.sh/docs/2.20/operate/cluster, "Cluster
    # Capacity"; helm_values.py sets them), and the job queue's metrics exporter (one pod).
    ("keda-operator", 1, Resources(100, 100)),
    ("keda-metrics-apiserver", 1, Resources(100, 100)),
    ("keda-admission-webhooks", 1, Resources(100, 100)),
    ("queue-metrics", 1, Resources(100, 256)),
)
"""The cluster's own Deployments: they take room on the nodes the app's pods would otherwise use."""
DATADOG_AGENT_DAEMONSET: Final = Resources(300, 512)
"""With datadogEnabled, on every node: the Agent (200m, 256 MiB) and the trace agent (100m, 256 MiB)
(helm_values.py sets them)."""
DATADOG_CLUSTER_AGENT: Final = ("datadog-cluster-agent", 1, Resources(100, 256))
NO_RESOURCES: Final = Resources(0, 0)


@dataclass(frozen=True)
class NodeShape:
    instance_type: str
    vcpus: int
    memory_mib: int
    max_pods: int


def node_shape(instance_type: str) -> NodeShape:
    """The shape of a c, m or r node (Graviton or x86). Other families (burstable t, storage, accelerated) are
    refused: a burstable node's CPU is not there when the pods need it."""
    match = _NODE_TYPE.match(instance_type)
    if match is None or match["size"] not in _SIZES:
        raise ValueError(
            f"cannot size EKS nodes of type '{instance_type}': use a c, m or r family type from large to 16xlarge "
            "(for example m7g.xlarge, c7g.2xlarge, r7i.xlarge)"
        )
    vcpus, enis, ips = _SIZES[match["size"]]
    return NodeShape(
        instance_type=instance_type,
        vcpus=vcpus,
        memory_mib=vcpus * GIB_PER_VCPU[match["family"]] * 1024,
        max_pods=enis * (ips - 1) + 2,
    )


def kube_reserved_cpu_millicores(vcpus: int) -> int:
    reserved = 0.0
    for start, end, share in ((0, 1, 0.06), (1, 2, 0.01), (2, 4, 0.005), (4, math.inf, 0.0025)):
        if vcpus > start:
            reserved += (min(vcpus, end) - start) * 1000 * share
    return math.ceil(reserved)


def allocatable(shape: NodeShape, extra_daemonsets: Resources = NO_RESOURCES) -> Resources:
    """What the scheduler may place on one node, after the kubelet's reservation, the eviction threshold and the
    DaemonSets every node runs (`extra_daemonsets`: optional ones, such as the Datadog Agent)."""
    cpu = (
        shape.vcpus * 1000
        - kube_reserved_cpu_millicores(shape.vcpus)
        - DAEMONSET_CPU_MILLICORES
        - extra_daemonsets.cpu_millicores
    )
    visible = math.floor(shape.memory_mib * (1 - VM_MEMORY_OVERHEAD))
    memory = (
        visible - (11 * shape.max_pods + 255) - EVICTION_HARD_MIB - DAEMONSET_MEMORY_MIB - extra_daemonsets.memory_mib
    )
    return Resources(cpu, memory)


def pods_per_node(shape: NodeShape, request: Resources) -> int:
    room = allocatable(shape)
    return max(
        0,
        min(
            room.cpu_millicores // request.cpu_millicores,
            room.memory_mib // request.memory_mib,
            shape.max_pods - DAEMONSET_PODS,
        ),
    )


def system_pod_slots(request: Resources) -> int:
    """App pod slots the cluster's system pods take: their requests in units of one app pod, rounded up."""
    cpu = sum(count * pod.cpu_millicores for _, count, pod in SYSTEM_PODS)
    memory = sum(count * pod.memory_mib for _, count, pod in SYSTEM_PODS)
    return max(math.ceil(cpu / request.cpu_millicores), math.ceil(memory / request.memory_mib))


def app_pod_capacity(shape: NodeShape, nodes: int, request: Resources) -> int:
    """App pods `nodes` nodes of `shape` can hold at once (never negative)."""
    return max(0, nodes * pods_per_node(shape, request) - system_pod_slots(request))


def pods_fit(
    shape: NodeShape, nodes: int, pods: Sequence[tuple[int, Resources]], extra_daemonsets: Resources = NO_RESOURCES
) -> bool:
    """Whether `pods` (count, requests) all fit on `nodes` nodes of `shape`, placed largest first onto the first
    node with room (first-fit decreasing: close to what the scheduler achieves, and never optimistic about a
    node's leftover slivers the way adding up requests would be)."""
    room = allocatable(shape, extra_daemonsets)
    daemonset_pods = DAEMONSET_PODS + (extra_daemonsets != NO_RESOURCES)
    free = [[room.cpu_millicores, room.memory_mib, shape.max_pods - daemonset_pods] for _ in range(nodes)]
    wanted = sorted(
        (pod for count, pod in pods for _ in range(count)),
        key=lambda pod: (pod.cpu_millicores, pod.memory_mib),
        reverse=True,
    )
    for pod in wanted:
        node = next((n for n in free if n[0] >= pod.cpu_millicores and n[1] >= pod.memory_mib and n[2] >= 1), None)
        if node is None:
            return False
        node[0] -= pod.cpu_millicores
        node[1] -= pod.memory_mib
        node[2] -= 1
    return True
