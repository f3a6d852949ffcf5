"""The sizing rule (pure, no mocks): units for the peak at 70% CPU, spread evenly over the AZs so that losing any
one still carries the peak, never fewer than one per AZ; tier B's pods, then the nodes that hold them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.capacity.kubernetes_nodes import Resources, app_pod_capacity, node_shape
from infra.capacity.sizing import (
    TARGET_CPU,
    SizingError,
    carrying_capacity_rps,
    size_ec2_fleet,
    size_pods_and_nodes,
    spread_over_zones,
    units_needed,
)
from infra.capacity.throughput import REQUESTS_PER_VCPU_SECOND

POD = Resources(cpu_millicores=1000, memory_mib=1536)


@pytest.mark.parametrize(
    ("needed", "zones", "per_zone", "total"),
    [
        (3, 3, 2, 6),  # n = z: exactly one spare per AZ
        (2, 2, 2, 4),
        (5, 3, 3, 9),  # any two AZs hold 6
        (6, 3, 3, 9),  # tier A at the measured throughput: 6 carry the peak, any two AZs hold them
        (1, 2, 1, 2),  # the minimum: one per AZ, and one AZ alone still carries the peak
        (1, 3, 1, 3),
        (0, 3, 1, 3),  # no load still leaves one per AZ
        (4, 1, 4, 4),  # one AZ: nothing to lose into (development only)
        (0, 1, 1, 1),
    ],
)
def test_units_spread_over_the_azs(needed: int, zones: int, per_zone: int, total: int) -> None:
    fleet = spread_over_zones(needed, zones)
    assert (fleet.per_zone, fleet.total) == (per_zone, total)
    assert fleet.spare == total - needed


@given(needed=st.integers(min_value=0, max_value=500), zones=st.integers(min_value=2, max_value=6))
def test_losing_any_one_az_still_carries_the_peak_and_no_smaller_even_spread_would(needed: int, zones: int) -> None:
    fleet = spread_over_zones(needed, zones)
    assert fleet.per_zone >= 1
    assert fleet.after_zone_loss >= needed
    smaller = fleet.per_zone - 1
    assert smaller < 1 or smaller * (zones - 1) < needed, "the smallest spread that survives an AZ loss"


def test_a_fleet_needs_an_az_and_a_need_cannot_be_negative() -> None:
    with pytest.raises(SizingError, match="at least one AZ"):
        spread_over_zones(3, 0)
    with pytest.raises(SizingError, match="cannot need -1"):
        spread_over_zones(-1, 3)


def test_units_round_up_at_the_target_cpu() -> None:
    # 5,000 requests/s at 1,457.3 per vCPU-second and 70% CPU: 4.9 vCPUs, so 5 one-vCPU units, 3 two-vCPU ones.
    assert units_needed(Decimal(5_000), Decimal("1457.3"), Decimal(1)) == 5
    assert units_needed(Decimal(5_000), Decimal("1457.3"), Decimal(2)) == 3
    assert units_needed(Decimal(1_020), Decimal(1_000), Decimal(1), Decimal("0.5")) == 3
    assert units_needed(Decimal(700), Decimal(1_000), Decimal(1)) == 1, "exactly at 70%: no extra unit"
    assert units_needed(Decimal(0), Decimal(1_000), Decimal(1)) == 0
    with pytest.raises(SizingError, match="must be positive"):
        units_needed(Decimal(1), Decimal(0), Decimal(1))
    with pytest.raises(SizingError, match="a share in"):
        units_needed(Decimal(1), Decimal(1), Decimal(1), Decimal("1.5"))


def test_the_tiers_fleets_at_the_measured_throughput() -> None:
    a = size_ec2_fleet(peak_rps=Decimal(5_000), rps_per_vcpu=REQUESTS_PER_VCPU_SECOND, instance_type="c7g.medium",
                       zones=3)  # fmt: skip
    assert (a.fleet.needed, a.fleet.per_zone, a.fleet.total) == (6, 3, 9)
    assert a.cpu_at_peak() < TARGET_CPU
    assert a.cpu_at_peak_after_zone_loss <= TARGET_CPU, "an AZ lost: the 6 left at 70% at most"
    c = size_ec2_fleet(peak_rps=Decimal(1_000), rps_per_vcpu=REQUESTS_PER_VCPU_SECOND, instance_type="t4g.medium",
                       zones=2)  # fmt: skip
    assert (c.fleet.needed, c.fleet.total) == (1, 2)
    with pytest.raises(SizingError, match="do not follow from its name"):
        size_ec2_fleet(peak_rps=Decimal(1), rps_per_vcpu=Decimal(1), instance_type="c7g.metal", zones=2)


def test_carrying_capacity_is_the_sizing_read_backwards() -> None:
    assert carrying_capacity_rps(instances=5, vcpus=1, rps_per_vcpu=Decimal(1_000)) == Decimal(3_500)
    fleet = size_ec2_fleet(peak_rps=Decimal(3_500), rps_per_vcpu=Decimal(1_000), instance_type="c7g.medium", zones=3)
    assert fleet.fleet.needed == 5


def test_tier_b_pods_then_nodes_that_hold_them_with_an_az_lost() -> None:
    sizing = size_pods_and_nodes(
        peak_rps=Decimal(5_000), rps_per_vcpu=REQUESTS_PER_VCPU_SECOND, pod_request=POD, node_type="c7g.2xlarge",
        zones=3,
    )  # fmt: skip
    assert (sizing.pods.needed, sizing.pods.total) == (6, 9)
    assert sizing.nodes.total == 3
    shape = node_shape("c7g.2xlarge")
    assert app_pod_capacity(shape, sizing.nodes.total, POD) >= sizing.pods.total
    assert app_pod_capacity(shape, sizing.nodes.after_zone_loss, POD) >= sizing.pods.needed
    smaller_nodes = size_pods_and_nodes(
        peak_rps=Decimal(5_000), rps_per_vcpu=REQUESTS_PER_VCPU_SECOND, pod_request=POD, node_type="c7g.large",
        zones=3,
    )  # fmt: skip
    assert smaller_nodes.nodes.total > sizing.nodes.total, "one pod a 2-vCPU node: more of them"
    assert app_pod_capacity(node_shape("c7g.large"), smaller_nodes.nodes.total, POD) >= 9


def test_a_pod_that_fits_no_node_is_refused() -> None:
    with pytest.raises(SizingError, match=r"fits no c7g\.large node"):
        size_pods_and_nodes(peak_rps=Decimal(100), rps_per_vcpu=Decimal(1_000),
                            pod_request=Resources(4000, 1536), node_type="c7g.large", zones=3)  # fmt: skip
