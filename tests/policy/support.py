"""Synthetic plans for the policy tests: a real plan of a stack, copied, with one thing changed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from infra.plan.document import Plan
from infra.policy.engine import Finding, check_plan
from infra.policy.registry import rule
from tests.infra.plans import STACKS, plan_of

Resources = list[dict[str, Any]]
Mutation = Callable[[Resources], None]


def real_plan(stack_id: str) -> Plan:
    stack, overrides = STACKS[stack_id]
    return plan_of(stack, overrides)


def mutated(plan: Plan, *mutations: Mutation) -> Plan:
    """A copy of `plan` with each mutation applied to its resources (the cached plan is never touched)."""
    resources = copy.deepcopy(plan.resources)
    for mutation in mutations:
        mutation(resources)
    return replace(plan, resources=resources)


def findings(rule_id: str, plan: Plan) -> list[Finding]:
    return list(check_plan(plan, (rule(rule_id),)).findings)


def named(resources: Resources, name: str) -> dict[str, Any]:
    matches = [r for r in resources if r["name"] == name]
    assert len(matches) == 1, f"expected one resource named {name}, found {len(matches)}"
    return matches[0]


def _container(node: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


def set_input(name: str, path: tuple[str | int, ...], value: Any) -> Mutation:
    def mutation(resources: Resources) -> None:
        inputs = named(resources, name)["inputs"]
        parent = _container(inputs, path[:-1])
        parent[path[-1]] = value

    return mutation


def drop_input(name: str, path: tuple[str | int, ...]) -> Mutation:
    def mutation(resources: Resources) -> None:
        inputs = named(resources, name)["inputs"]
        parent = _container(inputs, path[:-1])
        del parent[path[-1]]

    return mutation


def set_option(name: str, option: str, value: Any) -> Mutation:
    def mutation(resources: Resources) -> None:
        named(resources, name)["options"][option] = value

    return mutation


def remove(name: str) -> Mutation:
    def mutation(resources: Resources) -> None:
        resources.remove(named(resources, name))

    return mutation


def add_copy(of: str, name: str, type_: str | None = None, inputs: dict[str, Any] | None = None) -> Mutation:
    """A new resource made from a real one: its type (or `type_`), its parent and dependencies, and `inputs`
    (default: a copy of the original's)."""

    def mutation(resources: Resources) -> None:
        original = named(resources, of)
        clone = copy.deepcopy(original)
        clone["type"] = type_ or original["type"]
        clone["name"] = name
        head, qualified_type, _ = original["urn"].rsplit("::", 2)
        parents = qualified_type.rsplit("$", 1)[0] + "$" if "$" in qualified_type else ""
        clone["urn"] = f"{head}::{parents}{clone['type']}::{name}"
        if inputs is not None:
            clone["inputs"] = inputs
        resources.append(clone)

    return mutation


def urn_of(resources: Resources, name: str) -> str:
    return named(resources, name)["urn"]
