"""Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the CLI does, minus decryption.

`secure:` values are ciphertext only the CLI can decrypt; offline they are replaced by the key's documented
stand-in (or a generic placeholder) and marked secret, so the program sees them exactly as it would see a
decrypted secret: as a secret.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.config.keys import keys_by_full_name
from infra.config.loader import RawConfig
from infra.config.provider_keys import is_provider_credential

LOG = logging.getLogger("infra.plan")
SECRET_PLACEHOLDER = "offline-secret-placeholder"  # noqa: S105 (a stand-in, not a credential)


class PlanInputError(Exception):
    """A stack that cannot be planned: unknown stack, unreadable YAML, a malformed --set. Exit code 2."""


@dataclass(frozen=True)
class ProjectFiles:
    root: Path
    name: str
    declarations: dict[str, dict[str, Any]]
    """Pulumi.yaml's `config:` block, keys made full (`contentry:tier`)."""
    stack_config_dir: Path

    def stacks(self) -> list[str]:
        prefix, suffixes = "Pulumi.", (".yaml", ".yml")
        return sorted(
            p.name[len(prefix) : -len(p.suffix)]
            for p in self.stack_config_dir.glob("Pulumi.*")
            if p.suffix in suffixes and p.name.count(".") == 2
        )


def find_project_root(start: Path | None = None) -> Path:
    """The folder holding Pulumi.yaml: upwards from `start` (the working directory), else this checkout's root."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    packaged = Path(__file__).resolve().parents[2]
    if (packaged / "Pulumi.yaml").is_file():
        return packaged
    raise PlanInputError(f"no Pulumi.yaml in {here} or above it; run from the project's folder")


def read_project(root: Path) -> ProjectFiles:
    document = _read_yaml(root / "Pulumi.yaml")
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise PlanInputError(f"{root / 'Pulumi.yaml'}: `name` is missing")
    declarations: dict[str, dict[str, Any]] = {}
    for key, spec in (document.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        declarations[full] = spec if isinstance(spec, dict) else {"value": spec}
    config_dir = root / document.get("stackConfigDir", ".")
    return ProjectFiles(root=root, name=name, declarations=declarations, stack_config_dir=config_dir)


def stack_inputs(project: ProjectFiles, stack: str, overrides: list[str]) -> RawConfig:
    """The config the CLI would hand the program: Pulumi.yaml defaults, the stack file, then `--set`s."""
    path = next(
        (p for p in (project.stack_config_dir / f"Pulumi.{stack}.{ext}" for ext in ("yaml", "yml")) if p.is_file()),
        None,
    )
    if path is None:
        known = ", ".join(project.stacks()) or "none"
        raise PlanInputError(
            f"unknown stack '{stack}': no Pulumi.{stack}.yaml in {project.stack_config_dir} (stacks: {known})"
        )
    document = _read_yaml(path)
    _warn_about_environments(document, path)
    values: dict[str, str] = {}
    secret_keys: set[str] = set()
    for key, spec in project.declarations.items():
        if "default" in spec:
            values[key] = _as_cli_string(spec["default"])
        elif "value" in spec:
            values[key] = _as_cli_string(spec["value"])
    stack_config = document.get("config") or {}
    if not isinstance(stack_config, dict):
        raise PlanInputError(f"{path}: `config` must be a mapping of keys to values")
    for key, value in stack_config.items():
        full = key if ":" in key else f"{project.name}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[full] = _offline_secret(full)
            secret_keys.add(full)
        else:
            _check_declared_type(project, full, value, path)
            values[full] = _as_cli_string(value)
    for override in overrides:
        key, sep, value = override.partition("=")
        if not sep or not key:
            raise PlanInputError(f"--set {override!r}: expected key=value, for example --set tier=B")
        full = key if ":" in key else f"{project.name}:{key}"
        values[full] = value
        known = keys_by_full_name().get(full)
        if value and ((known is not None and known.secret) or is_provider_credential(full)):
            secret_keys.add(full)  # a value typed on the command line is only for this offline run
    return RawConfig(project=project.name, stack=stack, values=values, secret_keys=frozenset(secret_keys))


def _warn_about_environments(document: dict[str, Any], path: Path) -> None:
    """An ESC `environment:` block supplies config that only Pulumi Cloud can resolve (at preview/up). The plan
    goes on with what it knows, since most environments carry credentials an offline plan never uses, but says
    plainly what it could not read: any key such an environment sets takes its default or preset here."""
    block = document.get("environment")
    if not block:
        return
    imports = block.get("imports", []) if isinstance(block, dict) else block  # the older `imports:` form too
    names = [str(name) for name in imports] if isinstance(imports, list) else [str(imports)]
    LOG.warning(
        f"{path.name} imports the ESC environment(s) {', '.join(names) or '(unnamed)'}, which Pulumi Cloud resolves"
        " at `pulumi preview`/`up` and an offline plan cannot read. This plan uses only the stack file, Pulumi.yaml's"
        " defaults and the tier's presets: any key those environments set (their pulumiConfig) takes its default"
        " here. `pulumi env open <environment>` shows what one sets; copy the program's keys (contentry:*,"
        " aws:region) into the stack file, or --set them, to plan exactly what `pulumi up` would do."
    )


def _offline_secret(full_key: str) -> str:
    known = keys_by_full_name().get(full_key)
    return known.offline_value if known is not None and known.offline_value else SECRET_PLACEHOLDER


def _check_declared_type(project: ProjectFiles, key: str, value: Any, path: Path) -> None:
    """The CLI stores scalars as strings; a declared key cannot take a mapping or a list."""
    declared = project.declarations.get(key, {}).get("type")
    if declared in {"string", "integer", "boolean"} and isinstance(value, dict | list):
        raise PlanInputError(f"{path.name}: {key} is a {type(value).__name__}, but Pulumi.yaml declares it {declared}")


def _as_cli_string(value: Any) -> str:
    """How the CLI passes a value to the program: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)  # true/false, numbers as written, objects and lists as JSON


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanInputError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PlanInputError(f"cannot read {path}: {error}") from None
    except yaml.YAMLError as error:
        raise PlanInputError(f"{path} is not valid YAML: {error}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise PlanInputError(f"{path}: expected a mapping at the top level, found {type(document).__name__}")
    return document
