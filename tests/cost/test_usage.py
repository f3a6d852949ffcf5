"""Usage files: layered defaults, per-name overrides, and errors that name the key and what is allowed."""

from __future__ import annotations

import fnmatch
from decimal import Decimal
from pathlib import Path

import pytest

from infra.cost.estimate import estimate
from infra.cost.pricing import Resource
from infra.cost.usage import UsageFileError, load_usage, parse_usage, read_usage_file, tier_defaults
from tests.cost.support import PRICES, TODAY
from tests.infra.plans import plan_of

LB = "aws:lb/loadBalancer:LoadBalancer"
BUCKET = "aws:s3/bucket:Bucket"


def res(type_token: str, name: str) -> Resource:
    return Resource(urn=f"urn::{name}", type=type_token, name=name, parent=None, inputs={})


@pytest.mark.parametrize("tier", ["A", "B", "C"])
def test_every_tier_ships_valid_documented_defaults(tier: str) -> None:
    layer = tier_defaults(tier)
    assert layer.types[LB]["internetEgressGb"] > 0
    assert "*upload*" in layer.by_name[BUCKET]


def test_a_stack_file_and_an_extra_file_override_key_by_key(tmp_path: Path) -> None:
    stack = tmp_path / "stack.yaml"
    stack.write_text(f"{LB}:\n  lcuPerHour: 5\n", encoding="utf-8")
    extra = tmp_path / "extra.yaml"
    extra.write_text(f"{LB}:\n  internetEgressGb: 1_000\n", encoding="utf-8")
    usage = load_usage("A", stack, extra)
    values = usage.of(res(LB, "alb"))
    assert values == {"lcuPerHour": Decimal(5), "internetEgressGb": Decimal(1000)}
    # The stack's file is named as it sits in the project (usage/<stack>.yaml); --usage as the user typed it.
    assert usage.origins == ("infra/cost/usage/tier-A.yaml", "usage/stack.yaml", str(extra))


def test_a_missing_stack_file_is_fine_but_a_missing_extra_file_is_an_error(tmp_path: Path) -> None:
    assert len(load_usage("C", tmp_path / "none.yaml").layers) == 1
    with pytest.raises(UsageFileError, match="cannot be read"):
        load_usage("C", None, tmp_path / "none.yaml")


def test_by_name_patterns_override_the_type_defaults() -> None:
    usage = load_usage("A")
    assert usage.of(res(BUCKET, "files-uploads"))["storageGb"] == 761  # from the traffic model: files, thumbnails
    assert usage.of(res(BUCKET, "something-else"))["storageGb"] == 20


def test_an_unknown_key_names_the_key_and_what_is_allowed() -> None:
    with pytest.raises(UsageFileError) as error:
        parse_usage({LB: {"lcu": 2}}, "usage/prod.yaml")
    message = str(error.value)
    assert "usage/prod.yaml" in message
    assert "unknown usage key 'lcu'" in message
    assert "lcuPerHour (LCU" in message
    assert "internetEgressGb" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("lots", "is not a number"), (-1, "out of range"), (True, "is not a number"), (2, "out of range")],
)
def test_bad_values_name_the_key_and_the_allowed_range(value: object, expected: str) -> None:
    document = {"aws:cloudfront/distribution:Distribution": {"europeShare": value}}
    with pytest.raises(UsageFileError, match=rf"europeShare: .*{expected}.*allowed: a number"):
        parse_usage(document, "f.yaml")


def test_a_type_without_usage_is_refused_listing_the_types_that_take_some() -> None:
    with pytest.raises(
        UsageFileError, match=r"'aws:ec2/vpc:Vpc' takes no usage assumptions; types that do: .*LoadBalancer"
    ):
        parse_usage({"aws:ec2/vpc:Vpc": {"x": 1}}, "f.yaml")


def test_an_unsupported_version_and_unreadable_yaml_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageFileError, match="version: 2 is not supported; allowed: 1"):
        parse_usage({"version": 2}, "f.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [unclosed\n", encoding="utf-8")
    with pytest.raises(UsageFileError, match="is not valid YAML"):
        read_usage_file(broken)


def test_patterns_that_match_nothing_are_reported() -> None:
    usage = load_usage("A")
    usage.of(res(BUCKET, "files-uploads"))
    unmatched = usage.unmatched_patterns()
    assert any("'*files-logs*' matches no resource" in u for u in unmatched)
    assert not any("'*upload*'" in u for u in unmatched)


TIER_STACKS = {"A": ("prod", ()), "B": ("prod", ("tier=B",)), "C": ("dev", ())}


@pytest.mark.parametrize("tier", sorted(TIER_STACKS))
def test_each_named_assumption_describes_exactly_one_resource_of_the_tiers_plan(tier: str) -> None:
    """A pattern that matches two resources applies one description (and one retention) to both: the ALB's
    access logs and the files' access logs are different buckets with their own numbers."""
    stack, overrides = TIER_STACKS[tier]
    resources = [Resource.of(r) for r in plan_of(stack, overrides).resources if r.get("custom")]
    layer = tier_defaults(tier)
    for type_token, patterns in layer.by_name.items():
        for pattern in patterns:
            matched = [r.name for r in resources if r.type == type_token and fnmatch.fnmatchcase(r.name, pattern)]
            assert len(matched) == 1, f"tier-{tier}.yaml: {type_token} '{pattern}' matches {matched}"


@pytest.mark.parametrize("tier", sorted(TIER_STACKS))
def test_the_tiers_usage_agrees_with_the_plans_lifecycle_and_snapshot_settings(tier: str) -> None:
    stack, overrides = TIER_STACKS[tier]
    plan = plan_of(stack, overrides)
    result = estimate(plan, load_usage(tier), PRICES, TODAY)
    contradictions = [w for w in result.warnings if "STANDARD_IA" in w]
    assert not contradictions, contradictions
    for group in plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup"):
        kept = int(group["inputs"].get("snapshotRetentionLimit") or 0)
        backups = [line for line in result.lines if line.resource == group["name"] and "Backup" in line.component]
        assert bool(backups) == (kept > 1), f"{group['name']} keeps {kept} snapshots: {backups}"
        assert all(line.quantity > 0 for line in backups), f"{group['name']}: snapshots priced at 0 GB"
