"""What a policy rule sees and says: one resource (type, name, camelCase inputs, protect, dependencies), the
whole stack for the few properties that span resources, and the rule's own record for the registry.

The same `Resource` is built from a plan resource (`python -m infra.cli check`) and from the Pulumi policy
SDK's arguments (`pulumi preview --policy-pack policy`), so each rule is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from infra.policy.references import referenced as _referenced
from infra.policy.values import UNKNOWN as UNKNOWN
from infra.policy.values import UnknownValueAt as UnknownValueAt
from infra.policy.values import get as get

SECRET = "[secret]"  # noqa: S105 (a marker, not a credential)
"""How the plan shows a secret value (infra.plan.recording.REDACTED)."""


def present(node: Any, *path: str | int) -> bool:
    """Whether a value is set at `path` (not absent, not empty). A value not known yet counts as set: it is
    the output of another resource (a bucket's name, a generated token), so it will be something; only the
    objects on the way to it must be known."""
    get(node, *path[:-1])  # raises when an object on the way is unknown: then nothing can be told
    try:
        value = get(node, *path)
    except UnknownValueAt:
        return True
    return value not in (None, "", [], {})


def items(node: Any, *path: str | int) -> list[Any]:
    """The list at `path` (an absent list is empty; a single object counts as a one-item list)."""
    value = get(node, *path)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def is_true(value: Any) -> bool:
    """True, or "true": some providers type a boolean as a string (launch template `ebs.encrypted`)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    """camelCase engine names; secrets are `[secret]` in a plan, unknowns `[unknown]`."""
    protect: bool = False
    dependencies: tuple[str, ...] = ()
    """URNs of every resource this one depends on (its inputs' and its explicit `depends_on`)."""
    property_dependencies: Mapping[str, tuple[str, ...]] | None = None
    """Per top-level input, the URNs its value comes from; None where the source records only the union
    (a plan records `dependsOn`; the policy SDK gives both)."""


@dataclass(frozen=True)
class Stack:
    """Every resource of one stack, for the rules whose property spans resources (a bucket and its public
    access block, a load balancer and its listeners)."""

    resources: tuple[Resource, ...]
    _by_urn: dict[str, Resource] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_urn", {r.urn: r for r in self.resources})

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if r.type in types]

    def by_urn(self, urn: str) -> Resource | None:
        return self._by_urn.get(urn)

    def referenced(self, source: Resource, path: tuple[str, ...], types: Iterable[str]) -> list[Resource]:
        """The resources of `types` that `source`'s input at `path` points at."""
        return _referenced(self.by_urn, source, path, frozenset(types))

    def referencing(self, target: Resource, types: Iterable[str], path: tuple[str, ...]) -> list[Resource]:
        """The resources of `types` whose input at `path` points at `target`."""
        wanted = frozenset(types)
        sources = [r for r in self.resources if r.type in wanted]
        return [r for r in sources if target in self.referenced(r, path, (target.type,))]


class Enforcement(StrEnum):
    MANDATORY = "mandatory"
    """A violation fails `check` (exit 1) and blocks `pulumi preview/up` with the policy pack."""
    ADVISORY = "advisory"
    """A violation is printed (and shown by the policy pack as a warning); nothing fails."""


ResourceCheck = Callable[[Resource], Iterator[str]]
"""Messages about one resource, each naming it, what is wrong and how to fix it."""
StackCheck = Callable[[Resource, Stack], Iterator[str]]
"""Messages about one resource whose property involves others in the stack."""


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    enforcement: Enforcement
    resource_types: tuple[str, ...]
    """The types the rule inspects: each one is the subject of its messages."""
    checkov: tuple[str, ...] = ()
    trivy: tuple[str, ...] = ()
    production_only: bool = False
    """Applies only when the stack's `environment` is production (the plan's `config.environment`)."""
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    needs_secret_markers: bool = False
    """Decides on whether a value is marked secret, which the plan shows (`[secret]`) and the policy SDK does
    not: it hands policies secrets already decrypted."""
    production_enforcement: Enforcement | None = None
    """A stricter level in production (an advisory rule that production must meet); None: `enforcement` there too."""

    def __post_init__(self) -> None:
        if (self.check is None) == (self.stack_check is None):
            raise ValueError(f"rule {self.id}: give exactly one of check (one resource) or stack_check")

    def enforcement_in(self, *, production: bool) -> Enforcement:
        """The rule's level in a stack of that environment."""
        if production and self.production_enforcement is not None:
            return self.production_enforcement
        return self.enforcement

    @property
    def spans_resources(self) -> bool:
        return self.stack_check is not None

    def messages(self, subject: Resource, stack: Stack) -> Iterator[str]:
        if self.stack_check is not None:
            return self.stack_check(subject, stack)
        assert self.check is not None
        return self.check(subject)
