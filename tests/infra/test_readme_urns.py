"""The README's URNs are the plan's, and its bootstrap `pulumi up --target ...` would run on a new stack.

On a new stack the engine creates only targeted resources (and providers, which it targets implicitly); a
targeted resource whose parent or dependency it would not create fails the update with "untargeted create"
(pulumi/pulumi#14531; pkg/resource/deploy/step_generator.go, TestTargetUntargetedParent). So every target's
parent must be the root stack or a target, and so must everything it depends on.
"""

from __future__ import annotations

import re
import shlex

import pytest

from infra.plan.document import Plan
from infra.plan.urns import ROOT_STACK_TYPE, qualified_type
from tests.infra.plans import REPO_ROOT, plan_of

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
URN = re.compile(r"urn:pulumi:[^\s'\"`]+")


def readme_urns(stack: str) -> list[str]:
    return [urn.replace("<stack>", stack) for urn in URN.findall(README)]


def targeted_commands() -> list[list[str]]:
    """The targets of every `pulumi up ... --target ...` in the README's code blocks (continuation lines
    joined) and inline code."""
    blocks = re.findall(r"```bash\n(.*?)```", README, re.DOTALL)
    inline = re.findall(r"(?<!`)`([^`\n]+)`(?!`)", re.sub(r"```.*?```", "", README, flags=re.DOTALL))
    commands = []
    for snippet in [*blocks, *inline]:
        for command in snippet.replace("\\\n", " ").splitlines():
            words = shlex.split(command, comments=True)
            targets = [words[i + 1] for i, word in enumerate(words[:-1]) if word == "--target"]
            if words[:2] == ["pulumi", "up"] and targets:  # not a mere mention of the flag
                commands.append(targets)
    return commands


def untargeted_creates(plan: Plan, targets: set[str]) -> list[str]:
    """What a targeted `pulumi up` on a new stack would refuse: a target whose parent or dependency is neither
    the root stack, a provider (targeted implicitly) nor itself a target."""
    implicit = {r["urn"] for r in plan.resources if r["type"].startswith("pulumi:providers:")}
    problems = []
    for resource in (r for r in plan.resources if r["urn"] in targets):
        parent = resource["parent"]
        if parent and qualified_type(parent) != ROOT_STACK_TYPE and parent not in targets:
            problems.append(f"{resource['name']}: its parent {parent} is not targeted")
        for dependency in resource["options"]["dependsOn"]:
            if dependency not in targets | implicit:
                problems.append(f"{resource['name']}: its dependency {dependency} is not targeted")
    return problems


def test_the_readme_has_a_targeted_bootstrap() -> None:
    assert targeted_commands(), "the README's first-deploy step (create the image repository first) is gone"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_urn_in_the_readme_is_in_the_plan(stack: str) -> None:
    urns = {r["urn"] for r in plan_of(stack).resources}
    assert readme_urns(stack), "no URN in the README"
    for urn in readme_urns(stack):
        assert urn in urns, f"README names {urn}, which `plan --stack {stack}` does not have"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_bootstrap_creates_the_repository_on_a_new_stack(stack: str) -> None:
    plan = plan_of(stack)
    (repository,) = plan.of_type("aws:ecr/repository:Repository")
    for targets in targeted_commands():
        chosen = {target.replace("<stack>", stack) for target in targets}
        assert repository["urn"] in chosen
        assert untargeted_creates(plan, chosen) == []


def test_targeting_the_repository_alone_is_refused() -> None:
    """The README's old command: the child without its component, which the engine refuses on a new stack."""
    plan = plan_of("dev")
    (repository,) = plan.of_type("aws:ecr/repository:Repository")
    problems = untargeted_creates(plan, {repository["urn"]})
    assert problems == [f"registry-repository: its parent {repository['parent']} is not targeted"]
