"""The subnet layout as a pure function: properties over every VPC size and AZ count it accepts."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.planning.cidr import MAX_AZS, CidrPlanError, SubnetTier, plan_subnets, public_ipv6_subnet

vpcs = st.builds(
    lambda first, second, prefix: IPv4Network(f"10.{first}.{second}.0/{prefix}", strict=False),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(16, 21),
)
az_counts = st.integers(1, MAX_AZS)


@given(vpcs, az_counts)
def test_subnets_lie_inside_the_vpc_and_never_overlap(vpc: IPv4Network, azs: int) -> None:
    subnets = [planned.cidr for planned in plan_subnets(vpc, azs)]
    assert all(subnet.subnet_of(vpc) for subnet in subnets)
    for index, subnet in enumerate(subnets):
        for other in subnets[index + 1 :]:
            assert not subnet.overlaps(other), f"{subnet} overlaps {other}"


@given(vpcs, az_counts)
def test_one_subnet_per_tier_per_az(vpc: IPv4Network, azs: int) -> None:
    plan = plan_subnets(vpc, azs)
    for tier in SubnetTier:
        assert sorted(p.az_index for p in plan if p.tier is tier) == list(range(azs))


@given(vpcs, st.integers(1, MAX_AZS - 1))
def test_adding_an_az_never_moves_an_existing_subnet(vpc: IPv4Network, azs: int) -> None:
    before = {(p.tier, p.az_index): p.cidr for p in plan_subnets(vpc, azs)}
    after = {(p.tier, p.az_index): p.cidr for p in plan_subnets(vpc, azs + 1)}
    assert all(after[key] == cidr for key, cidr in before.items())


@given(vpcs, az_counts)
def test_app_subnets_are_the_largest_and_public_ones_fit_a_load_balancer(vpc: IPv4Network, azs: int) -> None:
    plan = plan_subnets(vpc, azs)
    private = {p.cidr.prefixlen for p in plan if p.tier is SubnetTier.PRIVATE}
    public = {p.cidr.prefixlen for p in plan if p.tier is SubnetTier.PUBLIC}
    assert max(private) < min(public)
    assert max(public) <= 27  # an ALB needs /27 or larger


def test_the_16_layout_is_the_documented_one() -> None:
    plan = plan_subnets(IPv4Network("10.20.0.0/16"), 3)
    as_text = [(p.tier.value, p.az_index, str(p.cidr)) for p in plan]
    assert as_text == [
        ("private", 0, "10.20.0.0/19"),
        ("private", 1, "10.20.32.0/19"),
        ("private", 2, "10.20.64.0/19"),
        ("public", 0, "10.20.192.0/22"),
        ("public", 1, "10.20.196.0/22"),
        ("public", 2, "10.20.200.0/22"),
        ("isolated", 0, "10.20.216.0/22"),
        ("isolated", 1, "10.20.220.0/22"),
        ("isolated", 2, "10.20.224.0/22"),
    ]


@pytest.mark.parametrize("azs", [0, 7])
def test_az_count_out_of_range_is_refused(azs: int) -> None:
    with pytest.raises(CidrPlanError, match="az_count must be 1 to 6"):
        plan_subnets(IPv4Network("10.0.0.0/16"), azs)


def test_a_vpc_too_small_for_a_load_balancer_is_refused() -> None:
    with pytest.raises(CidrPlanError, match="too small"):
        plan_subnets(IPv4Network("10.0.0.0/22"), 2)


def test_public_ipv6_subnets_are_distinct_64s_inside_the_vpc_block() -> None:
    vpc = "2001:db8:0:ff00::/56"
    blocks = [IPv6Network(public_ipv6_subnet(vpc, index)) for index in range(MAX_AZS)]
    assert [str(b) for b in blocks[:2]] == ["2001:db8:0:ff00::/64", "2001:db8:0:ff01::/64"]
    assert len(set(blocks)) == MAX_AZS
    assert all(b.prefixlen == 64 and b.subnet_of(IPv6Network(vpc)) for b in blocks)


@pytest.mark.parametrize(("block", "index"), [("2001:db8::/48", 0), ("2001:db8:0:ff00::/56", MAX_AZS)])
def test_public_ipv6_subnet_refuses_what_aws_would(block: str, index: int) -> None:
    with pytest.raises(CidrPlanError):
        public_ipv6_subnet(block, index)
