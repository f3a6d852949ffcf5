"""The config keys, derived from the model's fields: one table for the loader, Pulumi.yaml and the docs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from infra.config.model import StackConfig

PROJECT_NAMESPACE = "contentry"


@dataclass(frozen=True)
class ConfigKey:
    name: str
    """The key as `pulumi config set` takes it inside the project's namespace (`tier`), or a full provider
    key (`aws:region`)."""
    path: tuple[str, ...]
    """Where the value lives in `StackConfig` (for example `("compute", "min_size")`)."""
    description: str
    yaml_type: str
    """The type Pulumi.yaml declares: string, integer or boolean."""
    default: Any
    """The model's own default, or None where the tier's preset (or the user) supplies the value."""
    tier_preset: bool
    secret: bool
    offline_value: str | None

    @property
    def full_name(self) -> str:
        return self.name if ":" in self.name else f"{PROJECT_NAMESPACE}:{self.name}"

    @property
    def required(self) -> bool:
        """No default and no preset: the user must supply it (Pulumi.yaml declares it without a default)."""
        return self.default is None and not self.tier_preset


def _yaml_type(annotation: Any) -> str:
    base = get_args(annotation)[0] if get_origin(annotation) is not None and get_args(annotation) else annotation
    if base is bool:
        return "boolean"
    if base is int:
        return "integer"
    return "string"


def _walk(model: type[BaseModel], prefix: tuple[str, ...]) -> Iterator[ConfigKey]:
    for field_name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _walk(annotation, (*prefix, field_name))
            continue
        if info.alias is None:
            continue  # project and stack come from the engine, not from config
        yield _key(info, (*prefix, field_name))


def _key(info: FieldInfo, path: tuple[str, ...]) -> ConfigKey:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    default = None if info.default is PydanticUndefined else info.default
    if info.default is None:
        default = ""  # an optional key: unset means the program derives it (cloudTrailEnabled: the environment)
    elif isinstance(default, SecretStr):
        default = default.get_secret_value()
    elif isinstance(default, tuple):
        default = ",".join(str(item) for item in default)  # a list key is one comma-separated string
    elif default is not None and not isinstance(default, bool | int | str):
        default = str(default)  # enums, networks: their config spelling
    assert info.alias is not None
    return ConfigKey(
        name=info.alias,
        path=path,
        description=info.description or "",
        yaml_type=_yaml_type(info.annotation),
        default=default,
        tier_preset=bool(extra.get("tier_preset", False)),
        secret=bool(extra.get("secret", False)),
        offline_value=extra.get("offline_value"),  # type: ignore[arg-type]
    )


@cache
def config_keys() -> tuple[ConfigKey, ...]:
    return tuple(_walk(StackConfig, ()))


@cache
def keys_by_full_name() -> dict[str, ConfigKey]:
    return {key.full_name: key for key in config_keys()}
