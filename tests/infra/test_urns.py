"""The plan's URNs are the engine's: checked against the Pulumi SDK's own URN construction
(`pulumi.resource.create_urn`), so a URN copied from the plan matches under `pulumi up --target` and
`pulumi state`. The engine leaves the root stack's type out of the URNs of resources parented to the stack
(pulumi/pulumi pkg/resource/deploy/deployment.go, generateURN); the SDK's mock monitor does not."""

from __future__ import annotations

import pytest
from pulumi.resource import create_urn
from pulumi.runtime.sync_await import _sync_await

from infra.plan.document import Plan
from infra.plan.urns import ROOT_STACK_TYPE, engine_urn, qualified_type
from tests.infra.plans import plan_of


def sdk_urn(name: str, type_: str, *, stack: str, parent: str | None = None) -> str:
    """What the SDK computes: with a parent, the parent's whole type chain; without, the bare type."""
    output = create_urn(name, type_, parent=parent, project="contentry", stack=stack)
    urn = _sync_await(output.future())
    assert urn is not None
    return urn


def by_name(plan: Plan, name: str) -> dict:
    (resource,) = [r for r in plan.resources if r["name"] == name]
    return resource


def stack_urn(stack: str) -> str:
    return f"urn:pulumi:{stack}::contentry::{ROOT_STACK_TYPE}::contentry-{stack}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_component_of_the_stack_has_no_root_stack_type(stack: str) -> None:
    registry = by_name(plan_of(stack), "registry")
    assert registry["parent"] == stack_urn(stack)
    expected = sdk_urn("registry", "contentry:registry:ImageRepository", stack=stack)
    assert registry["urn"] == expected == f"urn:pulumi:{stack}::contentry::contentry:registry:ImageRepository::registry"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_child_of_a_component_carries_the_components_type(stack: str) -> None:
    plan = plan_of(stack)
    component = by_name(plan, "registry")["urn"]
    repository = by_name(plan, "registry-repository")
    assert repository["parent"] == component
    expected = sdk_urn("registry-repository", "aws:ecr/repository:Repository", stack=stack, parent=component)
    assert repository["urn"] == expected
    assert qualified_type(repository["urn"]) == "contentry:registry:ImageRepository$aws:ecr/repository:Repository"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_provider_urn_and_references_to_it(stack: str) -> None:
    plan = plan_of(stack)
    provider = by_name(plan, "aws")
    assert provider["type"] == "pulumi:providers:aws"
    assert provider["urn"] == sdk_urn("aws", "pulumi:providers:aws", stack=stack)
    # A provider reference is `<provider urn>::<provider id>`: the URN part must be the engine's too.
    references = {r["provider"].rsplit("::", 1)[0] for r in plan.resources if r["provider"]}
    assert provider["urn"] in references
    assert references <= {r["urn"] for r in plan.of_type("pulumi:providers:aws")}


@pytest.mark.parametrize(("stack", "overrides"), [("dev", ()), ("prod", ()), ("dev", ("tier=B",))])
def test_every_urn_in_the_plan_is_the_sdks(stack: str, overrides: tuple[str, ...]) -> None:
    plan = plan_of(stack, overrides)
    root = stack_urn(stack)
    for resource in plan.resources:
        parent = None if resource["parent"] in (None, root) else resource["parent"]
        assert resource["urn"] == sdk_urn(resource["name"], resource["type"], stack=stack, parent=parent)
        assert ROOT_STACK_TYPE not in resource["urn"], resource["urn"]


def test_a_grandchild_carries_every_ancestors_type() -> None:
    """Components nested in components (none today) keep the whole chain, as the SDK and the engine do; the
    SDK's mock monitor would keep only the parent's last type."""
    component = engine_urn("dev", "contentry", stack_urn("dev"), "contentry:outer:Outer", "outer")
    inner = engine_urn("dev", "contentry", component, "contentry:inner:Inner", "outer-inner")
    leaf = engine_urn("dev", "contentry", inner, "aws:s3/bucket:Bucket", "outer-inner-bucket")
    assert inner == sdk_urn("outer-inner", "contentry:inner:Inner", stack="dev", parent=component)
    assert leaf == sdk_urn("outer-inner-bucket", "aws:s3/bucket:Bucket", stack="dev", parent=inner)
    assert qualified_type(leaf) == "contentry:outer:Outer$contentry:inner:Inner$aws:s3/bucket:Bucket"


def test_the_root_stack_itself_keeps_its_type() -> None:
    assert engine_urn("dev", "contentry", None, ROOT_STACK_TYPE, "contentry-dev") == stack_urn("dev")
    with pytest.raises(ValueError, match="not a Pulumi URN"):
        qualified_type("contentry:files:Files")
