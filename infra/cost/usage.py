"""Usage assumptions: the monthly quantities usage-based prices need (GB out, requests, stored GB, LCUs).

Layers, each overriding the one before, key by key:
1. the tier's defaults shipped here (`infra/cost/usage/tier-<A|B|C>.yaml`, every number explained);
2. the stack's file, `usage/<stack>.yaml` at the project root, when it exists;
3. the file given with `cost --usage FILE`.

A file maps a resource type to its usage keys; `byName` overrides them for resources whose name matches a
shell-style pattern (`"*uploads*"`). Every type and key is checked against what the pricers read, so a typo
is an error that names the key and what is allowed (exit code 2), never a silently ignored number.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from infra.cost.pricers import PRICERS
from infra.cost.pricing import Resource, UsageKey

USAGE_VERSION = 1
BY_NAME = "byName"
_RESERVED = frozenset({"version"})


class UsageFileError(Exception):
    """A usage file that cannot be used: the message names the file, the key and what is allowed."""


@dataclass(frozen=True)
class UsageLayer:
    origin: str
    types: Mapping[str, Mapping[str, Decimal]]
    by_name: Mapping[str, Mapping[str, Mapping[str, Decimal]]]
    """type -> pattern -> key -> value"""


@dataclass
class Usage:
    """The merged layers: what each resource's usage keys resolve to."""

    layers: tuple[UsageLayer, ...]
    matched_patterns: set[tuple[str, str, str]] = field(default_factory=set)

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(layer.origin for layer in self.layers)

    def of(self, resource: Resource) -> dict[str, Decimal]:
        values: dict[str, Decimal] = {}
        for layer in self.layers:
            values.update(layer.types.get(resource.type, {}))
        for layer in self.layers:
            for pattern, overrides in layer.by_name.get(resource.type, {}).items():
                if fnmatch.fnmatchcase(resource.name, pattern):
                    self.matched_patterns.add((layer.origin, resource.type, pattern))
                    values.update(overrides)
        return values

    def unmatched_patterns(self) -> list[str]:
        return [
            f"{origin}: {type_token} byName '{pattern}' matches no resource in the plan"
            for layer in self.layers
            for type_token, patterns in layer.by_name.items()
            for pattern in patterns
            if (origin := layer.origin, type_token, pattern) not in self.matched_patterns
        ]


def _declared_keys(type_token: str, origin: str) -> dict[str, UsageKey]:
    spec = PRICERS.get(type_token)
    if spec is None or not spec.usage_keys:
        takers = ", ".join(sorted(t for t, s in PRICERS.items() if s.usage_keys))
        raise UsageFileError(f"{origin}: '{type_token}' takes no usage assumptions; types that do: {takers}")
    return {key.name: key for key in spec.usage_keys}


def _number(value: Any, where: str, key: UsageKey) -> Decimal:
    allowed = f"a number from 0 to {key.maximum}" if key.maximum is not None else "a number >= 0"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UsageFileError(f"{where}: {value!r} is not a number; allowed: {allowed} ({key.unit})")
    try:
        number = Decimal(str(value).replace("_", ""))
    except InvalidOperation:
        raise UsageFileError(f"{where}: {value!r} is not a number; allowed: {allowed} ({key.unit})") from None
    if not number.is_finite() or number < 0 or (key.maximum is not None and number > key.maximum):
        raise UsageFileError(f"{where}: {value} is out of range; allowed: {allowed} ({key.unit})")
    return number


def _values(entries: Any, type_token: str, where: str, declared: dict[str, UsageKey]) -> dict[str, Decimal]:
    if not isinstance(entries, Mapping):
        raise UsageFileError(f"{where}: must be a mapping of usage keys to numbers")
    values = {}
    for name, value in entries.items():
        if name not in declared:
            allowed = ", ".join(f"{k.name} ({k.unit}: {k.description})" for k in declared.values())
            raise UsageFileError(f"{where}: unknown usage key '{name}' for {type_token}; allowed: {allowed}")
        values[name] = _number(value, f"{where}.{name}", declared[name])
    return values


def parse_usage(document: Any, origin: str) -> UsageLayer:
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        raise UsageFileError(f"{origin}: must be a mapping of resource types to usage keys")
    version = document.get("version", USAGE_VERSION)
    if version != USAGE_VERSION:
        raise UsageFileError(f"{origin}: version: {version!r} is not supported; allowed: {USAGE_VERSION}")
    types: dict[str, dict[str, Decimal]] = {}
    by_name: dict[str, dict[str, dict[str, Decimal]]] = {}
    for type_token, entries in document.items():
        if type_token in _RESERVED:
            continue
        where = f"{origin}: {type_token}"
        declared = _declared_keys(str(type_token), origin)
        if not isinstance(entries, Mapping):
            raise UsageFileError(f"{where}: must be a mapping of usage keys to numbers")
        patterns = entries.get(BY_NAME, {})
        if not isinstance(patterns, Mapping):
            raise UsageFileError(f"{where}.{BY_NAME}: must map name patterns (like '*uploads*') to usage keys")
        defaults = {k: v for k, v in entries.items() if k != BY_NAME}
        types[type_token] = _values(defaults, type_token, where, declared)
        by_name[type_token] = {
            str(pattern): _values(values, type_token, f"{where}.{BY_NAME}.{pattern}", declared)
            for pattern, values in patterns.items()
        }
    return UsageLayer(origin, types, by_name)


def read_usage_file(path: Path, origin: str | None = None) -> UsageLayer:
    """`origin` names the file in messages and in the estimate (default: the path as given)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UsageFileError(f"{path} is not valid YAML: {error}") from None
    return parse_usage(document, origin or str(path))


def tier_defaults(tier: str) -> UsageLayer:
    name = f"tier-{tier}.yaml"
    text = resources.files("infra.cost").joinpath("usage").joinpath(name).read_text(encoding="utf-8")
    return parse_usage(yaml.safe_load(text), f"infra/cost/usage/{name}")


def stack_usage_path(project_root: Path, stack: str) -> Path:
    return project_root / "usage" / f"{stack}.yaml"


def load_usage(tier: str, stack_file: Path | None = None, extra_file: Path | None = None) -> Usage:
    """The tier's defaults, then the stack's file (if it exists), then `extra_file` (must exist)."""
    layers = [tier_defaults(tier)]
    if stack_file is not None and stack_file.is_file():
        # Named from the project root, not by absolute path: the estimate (and its goldens) must not depend on
        # where the checkout lives.
        layers.append(read_usage_file(stack_file, origin=f"usage/{stack_file.name}"))
    if extra_file is not None:
        layers.append(read_usage_file(extra_file))
    return Usage(tuple(layers))
