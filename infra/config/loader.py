"""From raw config strings (as the CLI passes them) to a validated `StackConfig`, or one error listing every
problem. `resolve` is pure; `load_stack_config` is the only code in the program that reads Pulumi's config."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pydantic import ValidationError

from infra.config.capacity_check import fleet_capacity_warnings
from infra.config.errors import ConfigProblem, InvalidStackConfig
from infra.config.keys import PROJECT_NAMESPACE, ConfigKey, config_keys, keys_by_full_name
from infra.config.model import StackConfig, Tier
from infra.config.presets import TIER_PRESETS
from infra.config.provider_keys import plaintext_credentials, unknown_provider_keys
from infra.config.rules import cross_field_problems

# A documented placeholder in a stack file: `<your Atlas organization id>`.
PLACEHOLDER = re.compile(r"^<[^<>]+>$")
# Provider namespaces whose keys this program does not own; they are passed through untouched.
_FOREIGN_NAMESPACES = ("aws:", "mongodbatlas:", "kubernetes:", "random:", "pulumi:")


@dataclass(frozen=True)
class RawConfig:
    project: str
    stack: str
    values: Mapping[str, str]
    """Full keys (`contentry:tier`) to the strings the CLI passes; secrets already decrypted."""
    secret_keys: frozenset[str] = field(default_factory=frozenset)


def read_pulumi_config() -> RawConfig:
    """Every config value the engine gave this run. `pulumi.Config` can only get keys one by one; unknown keys
    (typos) must be seen too, so this reads the runtime's config map, the same one `pulumi.Config` reads."""
    from pulumi.runtime import config as runtime_config

    values: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    # The host passes secret keys either through set_all_config or the PULUMI_CONFIG_SECRET_KEYS variable.
    env_secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys = {key for key in values if runtime_config.is_config_secret(key) or key in env_secret_keys}
    return RawConfig(
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        values={key: value if isinstance(value, str) else str(value) for key, value in values.items()},
        secret_keys=frozenset(secret_keys),
    )


def load_stack_config(*, allow_placeholders: bool = False) -> StackConfig:
    """Read and validate this run's config. Raises `InvalidStackConfig` (a `pulumi.RunError`). Warnings (keys a
    provider would ignore) go to the engine's warning channel first, so they show even when validation fails."""
    raw = read_pulumi_config()
    for warning in config_warnings(raw):
        pulumi.log.warn(str(warning))
    config = resolve(raw, allow_placeholders=allow_placeholders)
    for warning in fleet_capacity_warnings(config):
        pulumi.log.warn(str(warning))
    return config


def config_warnings(raw: RawConfig) -> list[ConfigProblem]:
    """What is suspicious but not invalid: keys in a provider's namespace that the provider does not know."""
    return unknown_provider_keys(raw.values)


def resolve(raw: RawConfig, *, allow_placeholders: bool = False) -> StackConfig:
    problems: list[ConfigProblem] = []
    known = keys_by_full_name()
    own = {k: v for k, v in raw.values.items() if k.startswith(f"{PROJECT_NAMESPACE}:") or k in known}
    problems += _unknown_keys(own, known)
    tier = _tier(own, problems)
    if any(problem.key == _TIER_KEY for problem in problems):
        # Reported once, above; validating the bad value again would only say the same thing in pydantic's words.
        own = {key: value for key, value in own.items() if key != _TIER_KEY}
    merged = _merge(tier, own, known)
    problems += _placeholders(merged, known, raw.stack, allow_placeholders)
    problems += _plain_secrets(merged, known, raw.secret_keys)
    problems += plaintext_credentials(raw.values, raw.secret_keys, raw.stack)

    document: dict[str, Any] = {"project": raw.project, "stack": raw.stack}
    for full_name, value in merged.items():
        _put(document, known[full_name], value)
    try:
        config = StackConfig.model_validate(document)
    except ValidationError as error:
        field_problems = _from_validation_error(error, raw.stack)
        problems += field_problems
        problems += _cross_field_problems_despite(field_problems, merged, tier, raw)
        raise InvalidStackConfig(raw.stack, problems) from None
    problems += cross_field_problems(config)
    if problems:
        raise InvalidStackConfig(raw.stack, problems)
    return config


def _cross_field_problems_despite(
    field_problems: list[ConfigProblem], merged: dict[str, str], tier: Tier, raw: RawConfig
) -> list[ConfigProblem]:
    """Rules across keys need every key valid. So that one run still reports every problem, retry them with
    each invalid key at a valid stand-in (its preset, offline value or default), and keep only findings about
    the keys that were valid."""
    bad = {problem.key for problem in field_problems}
    known = keys_by_full_name()
    presets = {f"{PROJECT_NAMESPACE}:{name}": value for name, value in TIER_PRESETS[tier].items()}
    stand_ins = {
        key: presets.get(key)
        or known[key].offline_value
        or (None if known[key].default is None else str(known[key].default))
        for key in bad
        if key in known
    }
    retry = {key: value for key, value in stand_ins.items() if value}
    # A bad key without a stand-in (an optional key whose default is "unset") is left out: the model's default.
    valid = {key: value for key, value in merged.items() if key not in bad}
    document: dict[str, Any] = {"project": raw.project, "stack": raw.stack}
    for full_name, value in {**valid, **retry}.items():
        _put(document, known[full_name], value)
    try:
        config = StackConfig.model_validate(document)
    except ValidationError:
        return []  # a required key is missing or invalid: nothing sound to check across keys
    return [problem for problem in cross_field_problems(config) if problem.key not in bad]


def _unknown_keys(own: Mapping[str, str], known: Mapping[str, ConfigKey]) -> list[ConfigProblem]:
    problems = []
    names = sorted(key.name for key in known.values() if ":" not in key.name)
    for full_name in sorted(set(own) - set(known)):
        name = full_name.split(":", 1)[1]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        problems.append(ConfigProblem(full_name, f"unknown key; {hint}known keys: {', '.join(names)}"))
    return problems


_TIER_KEY = f"{PROJECT_NAMESPACE}:tier"


def _tier(own: Mapping[str, str], problems: list[ConfigProblem]) -> Tier:
    value = own.get(_TIER_KEY, "") or Tier.C.value
    try:
        return Tier(value)
    except ValueError:
        allowed = ", ".join(tier.value for tier in Tier)
        hint = f"; tiers are upper-case: {value.upper()}" if value.upper() in set(Tier) else ""
        problems.append(ConfigProblem(_TIER_KEY, f"'{value}' is not a tier{hint}; allowed: {allowed}"))
        return Tier.C  # only to keep checking the other keys


def _merge(tier: Tier, own: Mapping[str, str], known: Mapping[str, ConfigKey]) -> dict[str, str]:
    """The tier's preset, then the model's defaults, then what the stack sets. Empty means "not set": that is
    how Pulumi.yaml declares preset keys, since a declared key without a default would be required."""
    merged = {f"{PROJECT_NAMESPACE}:{name}": value for name, value in TIER_PRESETS[tier].items()}
    merged.update({k: v for k, v in own.items() if k in known and v != ""})
    return merged


def _placeholders(
    merged: dict[str, str], known: Mapping[str, ConfigKey], stack: str, allow: bool
) -> list[ConfigProblem]:
    problems = []
    for full_name, value in list(merged.items()):
        if not PLACEHOLDER.match(value):
            continue
        key = known[full_name]
        if key.offline_value is not None:
            # Substituted in every mode so the other keys still get validated; refused below outside the plan.
            merged[full_name] = key.offline_value
            if allow:
                continue
        secret = "--secret " if key.secret else ""
        problems.append(
            ConfigProblem(
                full_name,
                f"still the placeholder {value}; set the real value: "
                f"pulumi config set {secret}{key.name} <value> --stack {stack}",
            )
        )
    return problems


def _plain_secrets(
    merged: Mapping[str, str], known: Mapping[str, ConfigKey], secret_keys: frozenset[str]
) -> list[ConfigProblem]:
    return [
        ConfigProblem(
            full_name,
            f"holds a credential but is stored in plain text; remove it and set it again with "
            f"pulumi config set --secret {known[full_name].name} <value>",
        )
        for full_name, value in merged.items()
        if known[full_name].secret and value and full_name not in secret_keys
    ]


def _put(document: dict[str, Any], key: ConfigKey, value: str) -> None:
    node = document
    for part in key.path[:-1]:
        node = node.setdefault(part, {})
    node[key.name] = value


def _from_validation_error(error: ValidationError, stack: str) -> list[ConfigProblem]:
    by_alias = {key.name: key for key in config_keys()}
    problems = []
    for item in error.errors():
        alias = next((str(part) for part in reversed(item["loc"]) if str(part) in by_alias), None)
        if alias is None:
            problems.append(ConfigProblem(f"{PROJECT_NAMESPACE}:?", item["msg"]))
            continue
        key = by_alias[alias]
        if item["type"] == "missing":
            secret = "--secret " if key.secret else ""
            message = f"required ({key.description}): pulumi config set {secret}{key.name} <value> --stack {stack}"
        else:
            message = _reword(item["msg"], key)
        problems.append(ConfigProblem(key.full_name, message))
    return problems


def _reword(message: str, key: ConfigKey) -> str:
    """Pydantic's messages name the Python type; users think in config values."""
    message = message.removeprefix("Value error, ")
    if key.yaml_type == "integer" and "valid integer" in message:
        return "must be a whole number"
    if key.yaml_type == "boolean" and "valid boolean" in message:
        return "must be true or false"
    return message
