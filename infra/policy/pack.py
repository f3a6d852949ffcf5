"""The registry's rules as Pulumi policies (pulumi-policy 1.21), for `pulumi preview --policy-pack policy`.

Each rule becomes one policy named by its id: a `ResourceValidationPolicy` when it looks at one resource (the
engine hands it the resource's inputs before it is created or updated), a `StackValidationPolicy` when its
property spans resources (the engine hands it every resource, with each input's dependencies, after the
preview or update). The SDK's arguments are adapted to the same `Resource` the plan gives `check`, so the
rules run unchanged:

- props arrive wrapped in proxies that raise on values unknown during preview; they are unwrapped to plain
  data with those values as `[unknown]`, and a rule that needs one raises the SDK's `UnknownValueError`, which
  the SDK reports as an advisory "can't run during preview" note (the update checks the real value);
- the SDK decrypts secrets before policies see them, so a rule that decides on whether a value is marked
  secret (`needs_secret_markers`) reports itself not applicable here: `check` enforces it on the plan;
- the stack's `environment` comes from its config (`contentry:environment`, which the CLI passes to policy
  packs); when no config reaches the pack at all, production is assumed, so a missing setting never switches
  production rules off.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    _DictProxy,
    _ListProxy,
)
from pulumi_policy.secret import Secret

from infra.policy.model import UNKNOWN, Enforcement, Resource, Rule, Stack, UnknownValueAt
from infra.policy.registry import RULES

PACK_NAME = "contentry"
NAMESPACE = "contentry"
"""The project's config namespace (Pulumi.yaml `name`)."""
PRODUCTION = "production"
DEVELOPMENT = "development"

_UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)
_ENFORCEMENT = {Enforcement.MANDATORY: EnforcementLevel.MANDATORY, Enforcement.ADVISORY: EnforcementLevel.ADVISORY}
SECRETS_NOT_VISIBLE = (
    "the policy SDK hands policies secret values already decrypted, so it cannot tell a secret from a plain "
    "value; `python -m infra.cli check` enforces this rule on the offline plan, which marks secrets [secret]"
)


def stack_environment() -> str:
    """`development` or `production`, from the stack config the CLI passes to the pack."""
    environment = pulumi.Config(NAMESPACE).get("environment")
    if environment is None:
        # Pulumi.yaml's default is development; but with no config at all (not even aws:region, which every
        # stack sets) the pack cannot know, and production is the safe guess.
        return DEVELOPMENT if pulumi.Config("aws").get("region") is not None else PRODUCTION
    return DEVELOPMENT if environment == DEVELOPMENT else PRODUCTION


def plain(value: Any) -> Any:
    """The SDK's props as plain JSON-like data: proxies unwrapped, unknowns as `[unknown]`, secrets' values."""
    if isinstance(value, _DictProxy | _ListProxy):
        value = value["__target"]
    if isinstance(value, Secret):
        value = value.value
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(item) for item in value]
    if isinstance(value, str) and value in _UNKNOWN_SENTINELS:
        return UNKNOWN
    return value


def resource_from_args(args: ResourceValidationArgs) -> Resource:
    return Resource(
        urn=args.urn,
        type=args.resource_type,
        name=args.name,
        inputs=plain(args.props),
        protect=bool(args.opts.protect),
    )


def resource_from_stack(resource: PolicyResource) -> Resource:
    return Resource(
        urn=resource.urn,
        type=resource.resource_type,
        name=resource.name,
        inputs=plain(resource.props),
        protect=bool(resource.opts.protect),
        dependencies=tuple(dependency.urn for dependency in resource.dependencies),
        property_dependencies={
            key: tuple(dependency.urn for dependency in dependencies)
            for key, dependencies in resource.property_dependencies.items()
        },
    )


def _unknown_during_preview(rule: Rule, resource_name: str, unknown: UnknownValueAt) -> UnknownValueError:
    error = UnknownValueError(UNKNOWN_STRING_VALUE, [str(part) for part in unknown.path])
    error.message = f"{resource_name}: {unknown}; {rule.id} checks it when the value is known"
    return error


def _resource_policy(rule: Rule, environment: Callable[[], str]) -> ResourceValidationPolicy:
    types = frozenset(rule.resource_types)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        if rule.production_only and environment() != PRODUCTION:
            return
        if rule.needs_secret_markers:
            args.not_applicable(SECRETS_NOT_VISIBLE)
        resource = resource_from_args(args)
        try:
            messages = list(rule.messages(resource, Stack((resource,))))
        except UnknownValueAt as unknown:
            raise _unknown_during_preview(rule, resource.name, unknown) from None
        for message in messages:
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=rule.id,
        description=rule.description,
        validate=validate,
        enforcement_level=_level(rule, environment),
    )


def _level(rule: Rule, environment: Callable[[], str]) -> EnforcementLevel:
    """The policy's level: a rule stricter in production reads the environment once, when the pack is built (the
    SDK fixes a policy's level; the CLI launches the pack with the stack's config, readable while it is built:
    pulumi/pulumi#3612, tested by #20570). Without a readable environment `stack_environment` assumes production,
    so the stricter level is the fallback."""
    if rule.production_enforcement is None:
        return _ENFORCEMENT[rule.enforcement]
    return _ENFORCEMENT[rule.enforcement_in(production=environment() == PRODUCTION)]


def _stack_policy(rule: Rule, environment: Callable[[], str]) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        if rule.production_only and environment() != PRODUCTION:
            return
        stack = Stack(tuple(resource_from_stack(r) for r in args.resources))
        unknown: tuple[Resource, UnknownValueAt] | None = None
        for subject in stack.of_type(*rule.resource_types):
            try:
                messages = list(rule.messages(subject, stack))
            except UnknownValueAt as error:
                unknown = unknown or (subject, error)
                continue
            for message in messages:
                report_violation(message, subject.urn)
        if unknown is not None:
            # After every known violation is reported: the SDK then adds its advisory preview note.
            raise _unknown_during_preview(rule, unknown[0].name, unknown[1])

    return StackValidationPolicy(
        name=rule.id,
        description=rule.description,
        validate=validate,
        enforcement_level=_level(rule, environment),
    )


def policies(rules: Sequence[Rule] = RULES, environment: Callable[[], str] = stack_environment) -> list[Policy]:
    """One policy per rule, in the registry's order."""
    return [
        _stack_policy(rule, environment) if rule.spans_resources else _resource_policy(rule, environment)
        for rule in rules
    ]
