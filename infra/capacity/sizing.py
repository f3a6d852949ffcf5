"""How many instances, pods and nodes carry a traffic model's peak: the peak's vCPU need at the seed's CPU ceiling
(70%), spread evenly over the AZs with enough spare to lose any one AZ, and never fewer than one per AZ.

The rule, for `n` units (instances or pods) needed at 70% with every AZ up, over `z` AZs:
- each AZ gets `ceil(n / (z - 1))` units, at least one: when an AZ is lost, the other `z - 1` AZs still hold
  `n` or more, so the peak is still served at 70% CPU. For a need of up to `z - 1` units that is one unit per AZ;
  for `n = z` it is exactly one spare per AZ; in general the spare is one AZ's share, rounded up so that every AZ
  holds the same. ("Plus one spare per AZ" read literally, `ceil(n / z) + 1` per AZ, gives the same fleet for
  tiers A and B (5 needed over three AZs: 3 per AZ), twice tier C's (1 needed over two AZs: 2 per AZ, where 1
  already survives an AZ loss), and too few from `n = 9` over three AZs: 4 per AZ leave 8 when one is lost.)
- with one AZ there is nothing to lose into: `n` units (a development shape, never production).
Tier B sizes pods this way on their CPU request (what the scheduler guarantees, not the burst limit), then the
nodes that hold those pods, again so that the nodes of the remaining AZs can take every pod the peak needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from infra.capacity.instance_types import vcpus_of
from infra.capacity.kubernetes_nodes import NodeShape, Resources, app_pod_capacity, node_shape

TARGET_CPU: Final = Decimal("0.70")
"""The seed's production target: CPU below 70% at the peak."""
OVERSIZED_FACTOR: Final = 2
"""A minimum fleet that carries more than twice the peak is worth a warning: it is paid for all month."""


class SizingError(ValueError):
    """Inputs a fleet cannot be sized from: the message names what is wrong."""


@dataclass(frozen=True)
class ZonalFleet:
    """Units spread evenly over AZs so that the fleet survives the loss of any one AZ."""

    needed: int
    """Units that carry the peak at the target CPU with every AZ up."""
    zones: int
    per_zone: int

    @property
    def total(self) -> int:
        return self.per_zone * self.zones

    @property
    def spare(self) -> int:
        return self.total - self.needed

    @property
    def after_zone_loss(self) -> int:
        """Units left when one AZ is lost."""
        return self.per_zone * (self.zones - 1) if self.zones > 1 else self.total


def spread_over_zones(needed: int, zones: int) -> ZonalFleet:
    """The smallest even spread of `needed` units over `zones` AZs that still holds `needed` after losing one AZ,
    with at least one unit in every AZ."""
    if zones < 1:
        raise SizingError(f"a fleet spans at least one AZ, got {zones}")
    if needed < 0:
        raise SizingError(f"a fleet cannot need {needed} units")
    per_zone = max(1, needed) if zones == 1 else max(1, math.ceil(needed / (zones - 1)))
    return ZonalFleet(needed=needed, zones=zones, per_zone=per_zone)


def units_needed(
    peak_rps: Decimal, rps_per_vcpu: Decimal, vcpus_per_unit: Decimal, target: Decimal = TARGET_CPU
) -> int:
    """Units of `vcpus_per_unit` vCPUs that serve `peak_rps` at `target` CPU, each vCPU serving `rps_per_vcpu`
    when fully busy (rounded up: a fraction of an instance is a whole instance)."""
    if rps_per_vcpu <= 0 or vcpus_per_unit <= 0 or not 0 < target <= 1:
        raise SizingError(
            f"rps per vCPU ({rps_per_vcpu}) and vCPUs per unit ({vcpus_per_unit}) must be positive, the target CPU "
            f"({target}) a share in (0, 1]"
        )
    return math.ceil(peak_rps / (rps_per_vcpu * vcpus_per_unit * target))


@dataclass(frozen=True)
class FleetSizing:
    """An EC2 fleet (tiers A and C) sized for a peak."""

    instance_type: str
    vcpus: int
    peak_rps: Decimal
    rps_per_vcpu: Decimal
    fleet: ZonalFleet

    @property
    def vcpus_needed(self) -> Decimal:
        return self.peak_rps / (self.rps_per_vcpu * TARGET_CPU)

    def cpu_at_peak(self, instances: int | None = None) -> Decimal:
        """Average CPU of `instances` (default: the whole fleet) serving the peak."""
        count = self.fleet.total if instances is None else instances
        return self.peak_rps / (count * self.vcpus * self.rps_per_vcpu)

    @property
    def cpu_at_peak_after_zone_loss(self) -> Decimal:
        return self.cpu_at_peak(self.fleet.after_zone_loss)


def size_ec2_fleet(*, peak_rps: Decimal, rps_per_vcpu: Decimal, instance_type: str, zones: int) -> FleetSizing:
    vcpus = vcpus_of(instance_type)
    if vcpus is None:
        raise SizingError(f"the vCPUs of {instance_type} do not follow from its name: pick a sized type")
    needed = units_needed(peak_rps, rps_per_vcpu, Decimal(vcpus))
    return FleetSizing(instance_type, vcpus, peak_rps, rps_per_vcpu, spread_over_zones(needed, zones))


def carrying_capacity_rps(*, instances: int, vcpus: int, rps_per_vcpu: Decimal) -> Decimal:
    """Requests a second `instances` instances serve at the target CPU."""
    return instances * vcpus * rps_per_vcpu * TARGET_CPU


@dataclass(frozen=True)
class PodSizing:
    """Tier B: the app's pods for a peak, then the nodes that hold them."""

    pods: ZonalFleet
    pod_request: Resources
    node: NodeShape
    nodes: ZonalFleet
    peak_rps: Decimal
    rps_per_vcpu: Decimal

    @property
    def pod_cpu(self) -> Decimal:
        return Decimal(self.pod_request.cpu_millicores) / 1000

    def cpu_at_peak(self) -> Decimal:
        """Average CPU of every pod serving the peak, as a share of the pods' requests."""
        return self.peak_rps / (self.pods.total * self.pod_cpu * self.rps_per_vcpu)


def size_pods_and_nodes(
    *, peak_rps: Decimal, rps_per_vcpu: Decimal, pod_request: Resources, node_type: str, zones: int
) -> PodSizing:
    """Pods sized on their CPU request; nodes so that every pod fits, and so that the nodes of the AZs left after
    losing one hold the pods the peak needs (the lost AZ's pods are rescheduled there)."""
    pods = spread_over_zones(units_needed(peak_rps, rps_per_vcpu, Decimal(pod_request.cpu_millicores) / 1000), zones)
    shape = node_shape(node_type)
    if app_pod_capacity(shape, 1, pod_request) == 0 and app_pod_capacity(shape, zones, pod_request) == 0:
        raise SizingError(f"a pod of {pod_request} fits no {node_type} node beside the cluster's system pods")
    per_zone = 1
    while True:
        nodes = ZonalFleet(needed=0, zones=zones, per_zone=per_zone)
        if (
            app_pod_capacity(shape, nodes.total, pod_request) >= pods.total
            and app_pod_capacity(shape, nodes.after_zone_loss, pod_request) >= pods.needed
        ):
            break
        per_zone += 1
    needed_nodes = next(
        count for count in range(1, nodes.total + 1) if app_pod_capacity(shape, count, pod_request) >= pods.needed
    )
    return PodSizing(
        pods=pods,
        pod_request=pod_request,
        node=shape,
        nodes=ZonalFleet(needed=needed_nodes, zones=zones, per_zone=per_zone),
        peak_rps=peak_rps,
        rps_per_vcpu=rps_per_vcpu,
    )
