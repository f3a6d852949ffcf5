"""Rules every resource of every plan obeys: unique names, parents, the tagged provider, tags."""

from __future__ import annotations

import importlib
import inspect
import json
from collections import Counter
from functools import cache

from infra.plan.document import Plan
from infra.planning.tags import REQUIRED_TAG_KEYS
from tests.infra.plans import plan_of

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


MAIN_PROVIDER = "aws"
# The only other AWS provider: us-east-1, for CloudFront's ACM certificate (CloudFront takes no other region's).
CERTIFICATE_PROVIDER = "aws-us-east-1"
CERTIFICATE_TYPES = {"aws:acm/certificate:Certificate", "aws:acm/certificateValidation:CertificateValidation"}
# CloudFront's certificate belongs to the files component; the load balancer's certificate is regional (main).
CLOUDFRONT_CERTIFICATE_OWNER = "contentry:files:Files"
# CloudFront's web ACL (CLOUDFRONT scope) exists only in us-east-1 too: every child of the CDN's firewall.
CLOUDFRONT_FIREWALL = "cdn-firewall"


def tagged_provider(plan: Plan) -> dict:
    (provider,) = [p for p in plan.of_type(PROVIDER_TYPE) if p["name"] == MAIN_PROVIDER]
    return provider


def test_only_known_aws_providers_exist(any_plan: Plan) -> None:
    names = {p["name"] for p in any_plan.of_type(PROVIDER_TYPE)}
    assert MAIN_PROVIDER in names
    assert names <= {MAIN_PROVIDER, CERTIFICATE_PROVIDER}, names


def test_every_aws_provider_carries_the_default_tags(any_plan: Plan) -> None:
    main = tagged_provider(any_plan)
    assert main["inputs"]["region"] == any_plan.outputs["region"]
    for provider in any_plan.of_type(PROVIDER_TYPE):
        tags = json.loads(provider["inputs"]["defaultTags"])["tags"]
        assert set(REQUIRED_TAG_KEYS) <= set(tags), provider["name"]
        assert tags["Stack"] == any_plan.stack
        assert tags["Tier"] == any_plan.tier
        assert tags["Project"] == "contentry"
        assert tags["CostCenter"].startswith("contentry")
        assert provider["inputs"]["defaultTags"] == main["inputs"]["defaultTags"], provider["name"]


def test_every_aws_resource_uses_a_tagged_provider(any_plan: Plan) -> None:
    providers = {p["name"]: p["urn"] for p in any_plan.of_type(PROVIDER_TYPE)}
    component_types = {r["urn"]: r["type"] for r in any_plan.resources if not r["custom"]}
    for resource in any_plan.resources:
        if not resource["type"].startswith("aws:"):
            continue
        for_cloudfront = component_types.get(resource["parent"] or "") == CLOUDFRONT_CERTIFICATE_OWNER
        in_us_east_1 = resource["type"] in CERTIFICATE_TYPES and for_cloudfront
        in_us_east_1 |= resource["name"].startswith(f"{CLOUDFRONT_FIREWALL}-")
        expected = CERTIFICATE_PROVIDER if in_us_east_1 else MAIN_PROVIDER
        assert expected in providers, f"{resource['urn']} needs the {expected} provider, which the plan lacks"
        assert resource["provider"].startswith(providers[expected] + "::"), (
            f"{resource['urn']} must use the {expected} provider, uses {resource['provider'] or 'the default'}"
        )


def test_the_us_east_1_provider_is_in_us_east_1() -> None:
    plan = plan_of("prod")
    (provider,) = [p for p in plan.of_type(PROVIDER_TYPE) if p["name"] == CERTIFICATE_PROVIDER]
    assert provider["inputs"]["region"] == "us-east-1"


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
        if isinstance(tags, list):  # Auto Scaling groups: [{key, value, propagateAtLaunch}, ...]
            tags = {tag["key"]: tag["value"] for tag in tags}
        assert tags.get("Name", "").startswith(f"contentry-{any_plan.stack}-"), f"{resource['urn']}: {tags}"


def test_the_tag_check_knows_untaggable_types() -> None:
    assert takes_tags("aws:ec2/vpc:Vpc")
    assert not takes_tags("aws:ec2/route:Route")
