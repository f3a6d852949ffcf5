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


def summary(plan: Plan) -> str:
    custom = sum(1 for r in plan.resources if r["custom"])
    components = len(plan.resources) - custom
    protected = sum(1 for r in plan.resources if r["options"]["protect"])
    return (
        f"{len(plan.resources)} resources: {custom} cloud resources, {components} components"
        f" (and providers' configuration), {protected} protected"
    )


def print_plan(plan: Plan, console: Console) -> None:
    console.print(plan_tree(plan))
    console.print(summary(plan))
