"""The plan as a tree by component, for people."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rich.console import Console
from rich.tree import Tree

from infra.plan.document import Plan


def plan_tree(plan: Plan) -> Tree:
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    urns = {r["urn"] for r in plan.resources}
    for resource in plan.resources:
        parent = resource["parent"] if resource["parent"] in urns else None
        children[parent].append(resource)

    root = Tree(f"[bold]{plan.project}-{plan.stack}[/] (tier {plan.tier})")

    def add(node: Tree, parent: str | None) -> None:
        for resource in sorted(children[parent], key=lambda r: (r["custom"], r["type"], r["name"])):
            flags = " [red](protected)[/]" if resource["options"]["protect"] else ""
            style = "" if resource["custom"] else "bold cyan"
            label = f"[{style}]{resource['name']}[/]" if style else resource["name"]
            branch = node.add(f"{label}  [dim]{resource['type']}[/]{flags}")
            add(branch, resource["urn"])

    add(root, None)
    return root


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def summary(plan: Plan) -> str:
    providers = sum(1 for r in plan.resources if r["type"].startswith("pulumi:providers:"))
    components = sum(1 for r in plan.resources if not r["custom"])
    cloud = len(plan.resources) - providers - components
    protected = sum(1 for r in plan.resources if r["options"]["protect"])
    return (
        f"{_count(len(plan.resources), 'resource')}: {_count(cloud, 'cloud resource')}, "
        f"{_count(components, 'component')}, {_count(providers, 'provider')}; {protected} protected from deletion"
    )


def print_plan(plan: Plan, console: Console) -> None:
    console.print(plan_tree(plan))
    console.print(summary(plan))
