"""Availability zones chosen by zone ID from the instance-type offerings: the pure choice, then through the plan
(the offline engine answers the same look-up; in us-east-1, use1-az3 offers no Graviton type, as in AWS)."""

from __future__ import annotations

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.plan.document import Plan, build_plan
from infra.planning.zones import Zone, ZoneChoiceError, choose_zones, ec2_type_of_cache_node, offered_zone_ids
from tests.infra.plans import REPO_ROOT, STACKS, plan_of

US_EAST_1 = [Zone(f"us-east-1{letter}", f"use1-az{index + 1}") for index, letter in enumerate("abcdef")]
ALL_IDS = frozenset(zone.zone_id for zone in US_EAST_1)
WITHOUT_AZ3 = ALL_IDS - {"use1-az3"}


def test_a_zone_that_lacks_an_instance_type_is_skipped() -> None:
    offered = {"c7g.xlarge": WITHOUT_AZ3, "m6g.large": ALL_IDS}
    chosen = choose_zones(US_EAST_1, offered, ["c7g.xlarge", "m6g.large"], 3, region="us-east-1")
    assert [zone.zone_id for zone in chosen] == ["use1-az1", "use1-az2", "use1-az4"]
    assert [zone.name for zone in chosen] == ["us-east-1a", "us-east-1b", "us-east-1d"]


def test_when_every_zone_qualifies_the_choice_is_the_first_names_as_before() -> None:
    """A stack whose zones all qualify keeps the zones it had when zones were picked by name."""
    offered = {"c6i.xlarge": ALL_IDS}
    chosen = choose_zones(reversed(US_EAST_1), offered, ["c6i.xlarge"], 3, region="us-east-1")
    assert [zone.name for zone in chosen] == ["us-east-1a", "us-east-1b", "us-east-1c"]


@given(
    lacking=st.sets(st.sampled_from(sorted(ALL_IDS)), max_size=3),
    count=st.integers(min_value=1, max_value=2),
)
def test_adding_an_az_never_moves_a_chosen_zone(lacking: set[str], count: int) -> None:
    """Zone i keeps its subnets' CIDR blocks (infra/planning/cidr.py) only if zone i stays zone i."""
    offered = {"t4g.large": ALL_IDS - lacking}
    fewer = choose_zones(US_EAST_1, offered, ["t4g.large"], count, region="us-east-1")
    more = choose_zones(US_EAST_1, offered, ["t4g.large"], count + 1, region="us-east-1")
    assert more[:count] == fewer
    assert all(zone.zone_id not in lacking for zone in more)


def test_too_few_qualifying_zones_fail_naming_the_key_the_zones_and_what_they_lack() -> None:
    offered = {"c7g.xlarge": frozenset({"use1-az1", "use1-az2"}), "m6g.large": ALL_IDS}
    with pytest.raises(ZoneChoiceError) as caught:
        choose_zones(US_EAST_1[:3], offered, ["c7g.xlarge", "m6g.large"], 3, region="us-east-1")
    message = str(caught.value)
    assert "contentry:azCount is 3, but only 2 availability zones" in message
    assert "of us-east-1 offer c7g.xlarge and m6g.large" in message
    assert "use1-az3 (us-east-1c) lacks c7g.xlarge" in message
    assert "computeInstanceType" in message


def test_a_type_offered_nowhere_leaves_no_zone() -> None:
    with pytest.raises(ZoneChoiceError, match="only 0 availability zones"):
        choose_zones(US_EAST_1, {}, ["x9z.large"], 2, region="us-east-1")


def test_offerings_are_grouped_by_type() -> None:
    assert offered_zone_ids(["a.large", "b.large", "a.large"], ["z1", "z1", "z2"]) == {
        "a.large": frozenset({"z1", "z2"}),
        "b.large": frozenset({"z1"}),
    }


@pytest.mark.parametrize(
    ("node_type", "ec2_type"),
    [("cache.m6g.large", "m6g.large"), ("cache.t4g.small", "t4g.small"), ("cache.r7g.xlarge", "r7g.xlarge")],
)
def test_a_cache_node_runs_on_the_ec2_type_of_the_same_name(node_type: str, ec2_type: str) -> None:
    assert ec2_type_of_cache_node(node_type) == ec2_type


def test_a_cache_node_type_ec2_does_not_have_is_not_looked_up() -> None:
    assert ec2_type_of_cache_node("cache.x99.large") is None


# Through the plan.


def subnet_zone_ids(plan: Plan) -> set[str]:
    return {s["inputs"]["availabilityZoneId"] for s in plan.of_type("aws:ec2/subnet:Subnet")}


def test_prod_s_graviton_fleet_and_cache_avoid_the_zone_without_graviton() -> None:
    plan = plan_of("prod")
    assert plan.outputs["availabilityZoneIds"] == ["use1-az1", "use1-az2", "use1-az4"]
    assert plan.outputs["availabilityZones"] == ["us-east-1a", "us-east-1b", "us-east-1d"]
    assert "use1-az3" not in subnet_zone_ids(plan)
    # The fleet's subnets, hence its instances, are only in zones that offer its type.
    private = {f"{s['name']}-id": s["inputs"]["availabilityZoneId"] for s in plan.of_type("aws:ec2/subnet:Subnet")}
    groups = plan.of_type("aws:autoscaling/group:Group")
    assert len(groups) == 2, "the app fleet and the job workers"
    for group in groups:
        assert {private[subnet] for subnet in group["inputs"]["vpcZoneIdentifiers"]} == set(
            plan.outputs["availabilityZoneIds"]
        ), group["name"]


def test_an_all_x86_stack_may_use_that_zone() -> None:
    plan = plan_of("prod", ("computeInstanceType=c6i.large", "cacheNodeType=cache.m5.large"))
    assert plan.outputs["availabilityZoneIds"] == ["use1-az1", "use1-az2", "use1-az3"]


def test_the_cache_s_type_counts_too() -> None:
    """An x86 fleet beside a Graviton cache still needs zones where the cache nodes can run."""
    plan = plan_of("prod", ("computeInstanceType=c6i.large",))
    assert "use1-az3" not in plan.outputs["availabilityZoneIds"]


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_every_stack_s_zones_are_distinct_and_as_many_as_its_az_count(stack_id: str) -> None:
    plan = plan_of(*STACKS[stack_id])
    ids = plan.outputs["availabilityZoneIds"]
    assert len(ids) == len(set(ids)) == len(plan.outputs["availabilityZones"])
    assert "use1-az3" not in ids, "every preset runs Graviton"


def test_more_azs_than_zones_offering_the_types_stops_the_plan_with_the_reason() -> None:
    with pytest.raises(pulumi.RunError) as caught:
        build_plan("prod", ("azCount=6",), REPO_ROOT)
    message = str(caught.value)
    assert "contentry:azCount is 6, but only 5 availability zones" in message
    assert "of us-east-1 offer c7g.medium and m6g.large" in message
    assert "use1-az3 (us-east-1c) lacks c7g.medium, m6g.large" in message
