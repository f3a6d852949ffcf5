"""Runs the rules over a plan: what `python -m infra.cli check` reports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.plan.document import Plan
from infra.policy.model import Enforcement, Resource, Rule, Stack, UnknownValueAt
from infra.policy.registry import RULES

PRODUCTION = "production"


@dataclass(frozen=True)
class Finding:
    rule: Rule
    resource: Resource
    message: str
    unchecked: bool = False
    """The value the rule needed is unknown until the update (a plan made from a preview): not a violation,
    checked again by the policy pack at `pulumi up`."""
    production: bool = True
    """Whether the stack is production: a rule may be stricter there (Rule.production_enforcement)."""

    @property
    def enforcement(self) -> Enforcement:
        return self.rule.enforcement_in(production=self.production)

    @property
    def blocks(self) -> bool:
        return not self.unchecked and self.enforcement is Enforcement.MANDATORY


@dataclass(frozen=True)
class Report:
    project: str
    stack: str
    tier: str
    environment: str
    environment_assumed: bool
    """The plan carried no `config.environment` (a plan written before it did): production was assumed, so
    that a missing setting never switches rules off."""
    rules_run: tuple[Rule, ...]
    rules_skipped: tuple[Rule, ...]
    """Production-only rules, skipped in a development stack."""
    resources: int
    findings: tuple[Finding, ...]

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.blocks]

    @property
    def advisory(self) -> list[Finding]:
        return [f for f in self.findings if not f.unchecked and f.enforcement is Enforcement.ADVISORY]

    @property
    def unchecked(self) -> list[Finding]:
        return [f for f in self.findings if f.unchecked]

    @property
    def passed(self) -> bool:
        return not self.mandatory


class MalformedPlan(ValueError):
    """A plan resource without the contract's shape (a hand-edited or foreign JSON file)."""


def resource_from_plan(resource: Any) -> Resource:
    if not isinstance(resource, Mapping) or not all(isinstance(resource.get(k), str) for k in ("urn", "type", "name")):
        raise MalformedPlan(f"a resource without a urn, type and name: {str(resource)[:120]}")
    options = resource.get("options") or {}
    if not isinstance(options, Mapping) or not isinstance(resource.get("inputs") or {}, Mapping):
        raise MalformedPlan(f"{resource['urn']}: inputs and options must be objects")
    return Resource(
        urn=resource["urn"],
        type=resource["type"],
        name=resource["name"],
        inputs=resource.get("inputs") or {},
        protect=bool(options.get("protect")),
        dependencies=tuple(options.get("dependsOn") or ()),
    )


def evaluate(rules: Iterable[Rule], stack: Stack, production: bool) -> list[Finding]:
    """Every finding of `rules` over `stack`, rules and resources in order."""
    findings: list[Finding] = []
    for rule in rules:
        if rule.production_only and not production:
            continue
        for subject in stack.of_type(*rule.resource_types):
            try:
                findings.extend(
                    Finding(rule, subject, message, production=production) for message in rule.messages(subject, stack)
                )
            except UnknownValueAt as unknown:
                findings.append(
                    Finding(rule, subject, f"{subject.name}: {unknown}", unchecked=True, production=production)
                )
    return findings


def check_plan(plan: Plan, rules: tuple[Rule, ...] = RULES) -> Report:
    environment = plan.config.get("environment")
    assumed = not isinstance(environment, str)
    production = assumed or environment == PRODUCTION
    stack = Stack(tuple(resource_from_plan(r) for r in plan.resources))
    return Report(
        project=plan.project,
        stack=plan.stack,
        tier=plan.tier,
        environment=PRODUCTION if assumed else str(environment),
        environment_assumed=assumed,
        rules_run=tuple(r for r in rules if production or not r.production_only),
        rules_skipped=tuple(r for r in rules if r.production_only and not production),
        resources=len(stack.resources),
        findings=tuple(evaluate(rules, stack, production)),
    )
