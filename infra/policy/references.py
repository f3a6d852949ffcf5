"""Which resources an input points at (the bucket a public access block configures, the load balancer a
listener belongs to).

The policy SDK gives each input's own dependencies: that answer is exact. A plan records only the union of a
resource's dependencies (`options.dependsOn`), so there the candidates are the dependencies of the wanted
types, and when several qualify (a bucket policy that also names another bucket in a condition), the input's
value decides: it carries the target's identity, since a resource's physical name or id starts with its
logical name (`files-logs` -> `files-logs-1a2b3c4`, its ARN `arn:aws:s3:::files-logs-1a2b3c4`) unless an
explicit physical name is set, which is then matched instead. A reference that stays ambiguous resolves to
nothing, so a rule that needs it reports the resource rather than passing it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from infra.policy.values import get


class _Resource(Protocol):
    """What resolution reads of a resource (`infra.policy.model.Resource` has it; this module cannot import
    the model, which imports it)."""

    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def inputs(self) -> Mapping[str, Any]: ...
    @property
    def dependencies(self) -> tuple[str, ...]: ...
    @property
    def property_dependencies(self) -> Mapping[str, tuple[str, ...]] | None: ...


R = TypeVar("R", bound=_Resource)

# Inputs that hold a resource's physical name when the program sets one instead of letting Pulumi name it.
_PHYSICAL_NAME_INPUTS = ("bucket", "bucketPrefix", "name", "namePrefix")


def referenced(by_urn: Callable[[str], R | None], source: R, path: tuple[str, ...], types: frozenset[str]) -> list[R]:
    """The resources of `types` (looked up by URN with `by_urn`) that `source`'s input at `path` points at."""
    if source.property_dependencies is not None:
        urns = source.property_dependencies.get(path[0], ())
        return [r for r in (by_urn(urn) for urn in urns) if r is not None and r.type in types]
    candidates = [r for r in (by_urn(urn) for urn in source.dependencies) if r is not None and r.type in types]
    if not candidates:
        return []
    values = _strings(get(source.inputs, *path))
    if not values:
        return []
    found: list[R] = []
    for value in values:
        best = _best_match(value, candidates)
        if best is not None and best not in found:
            found.append(best)
    if not found and len(candidates) == 1:
        # One dependency of the wanted type and a value that names nothing we know (an id the engine made up):
        # the dependency is what the value came from.
        return candidates
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _best_match(value: str, candidates: list[R]) -> R | None:
    scored = [(_identity_length(value, candidate), candidate) for candidate in candidates]
    best = max((score for score, _ in scored), default=0)
    winners = [candidate for score, candidate in scored if score == best]
    return winners[0] if best > 0 and len(winners) == 1 else None


def _identity_length(value: str, resource: _Resource) -> int:
    """How long an identity of `resource` found in `value` at a name boundary is (0: none): longer wins, so
    `files-logs-archive` is not mistaken for `files-logs`."""
    identities = [resource.name]
    identities += [v for k in _PHYSICAL_NAME_INPUTS if isinstance(v := resource.inputs.get(k), str) and v]
    lengths = [
        len(identity)
        for identity in identities
        if re.search(rf"(?:^|[:/]){re.escape(identity)}(?:$|[-./])", value) is not None
    ]
    return max(lengths, default=0)
