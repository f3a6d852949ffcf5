"""Rules every resource of every plan obeys: unique names, parents, the tagged provider, tags."""

from __future__ import annotations

import importlib
import inspect
import json
from collections import Counter
from functools import cache

from infra.plan.document import Plan
from infra.planning.tags import REQUIRED_TAG_KEYS

PROVIDER_TYPE = "pulumi:providers:aws"


def test_type_and_name_pairs_are_unique(any_plan: Plan) -> None:
    """The mock monitor does not catch duplicates; the real engine fails on them at `pulumi up`."""
    pairs = Counter((r["type"], r["name"]) for r in any_plan.resources)
    duplicates = [pair for pair, count in pairs.items() if count > 1]
    assert not duplicates, f"duplicate (type, name): {duplicates}"


def test_every_cloud_resource_lives_in_a_component(any_plan: Plan) -> None:
    components = {r["urn"] for r in any_plan.resources if not r["custom"]}
    for resource in any_plan.resources:
        if resource["custom"] and not resource["type"].startswith("pulumi:providers:"):
            assert resource["parent"] in components, f"{resource['urn']} is not parented to a component"


def test_child_names_derive_from_their_component(any_plan: Plan) -> None:
    names = {r["urn"]: r["name"] for r in any_plan.resources if not r["custom"]}
    for resource in any_plan.resources:
        parent_name = names.get(resource["parent"] or "")
        if parent_name is not None:
            assert resource["name"].startswith(f"{parent_name}-"), resource["urn"]


def tagged_provider(plan: Plan) -> dict:
    (provider,) = plan.of_type(PROVIDER_TYPE)
    return provider


def test_the_aws_provider_carries_the_default_tags(any_plan: Plan) -> None:
    provider = tagged_provider(any_plan)
    tags = json.loads(provider["inputs"]["defaultTags"])["tags"]
    assert set(REQUIRED_TAG_KEYS) <= set(tags)
    assert tags["Stack"] == any_plan.stack
    assert tags["Tier"] == any_plan.tier
    assert tags["Project"] == "contentry"
    assert tags["CostCenter"].startswith("contentry")
    assert provider["inputs"]["region"] == any_plan.outputs["region"]


def test_every_aws_resource_uses_the_tagged_provider(any_plan: Plan) -> None:
    provider = tagged_provider(any_plan)
    for resource in any_plan.resources:
        if resource["type"].startswith("aws:"):
            assert resource["provider"].startswith(provider["urn"] + "::"), (
                f"{resource['urn']} would use the untagged default provider"
            )


@cache
def takes_tags(type_token: str) -> bool:
    """Whether the provider's resource class accepts `tags`: aws:ec2/vpc:Vpc -> pulumi_aws.ec2.Vpc."""
    _, module_path, class_name = type_token.split(":")
    module = importlib.import_module(f"pulumi_aws.{module_path.split('/')[0]}")
    resource_class = getattr(module, class_name)
    return "tags" in inspect.signature(resource_class._internal_init).parameters


def test_every_taggable_resource_has_a_name_tag(any_plan: Plan) -> None:
    taggable = [r for r in any_plan.resources if r["type"].startswith("aws:") and takes_tags(r["type"])]
    assert len(taggable) > 10
    for resource in taggable:
        tags = resource["inputs"].get("tags", {})
        assert tags.get("Name", "").startswith(f"contentry-{any_plan.stack}-"), f"{resource['urn']}: {tags}"


def test_the_tag_check_knows_untaggable_types() -> None:
    assert takes_tags("aws:ec2/vpc:Vpc")
    assert not takes_tags("aws:ec2/route:Route")
