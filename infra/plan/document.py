"""The plan document: the contract in docs/ARCHITECTURE (shared) that the tests, the cost estimator and the
policy checks read. Resources are sorted by URN and keys sorted, so the same input gives byte-identical JSON.

Besides the contract's keys, `config` holds the stack's resolved settings minus every secret (the tier's
presets applied), so that a saved plan carries what the cost estimator needs beyond the resources: the
monthly budget, an external Redis's price. A plan file alone is enough to price the stack."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.config import StackConfig
from infra.config.keys import config_keys
from infra.config.loader import config_warnings, resolve
from infra.plan.engine import PROGRAM_LOG, run_under_mocks
from infra.plan.project_files import find_project_root, read_project, stack_inputs
from infra.plan.recording import Recording


@dataclass(frozen=True)
class Plan:
    project: str
    stack: str
    tier: str
    resources: list[dict[str, Any]]
    outputs: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    """The resolved, non-secret settings (config keys as `pulumi config` spells them)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "tier": self.tier,
            "config": self.config,
            "resources": self.resources,
            "outputs": self.outputs,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def of_type(self, type_token: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == type_token]


def build_plan(stack: str, overrides: list[str] | tuple[str, ...] = (), project_root: Path | None = None) -> Plan:
    """Plan `stack` offline. Raises `PlanInputError` for unreadable input and `InvalidStackConfig` (a
    `pulumi.RunError`) for invalid config, the latter before any resource is registered."""
    from infra.program import main  # late: the program imports the provider SDKs

    project = read_project(project_root or find_project_root())
    raw = stack_inputs(project, stack, list(overrides))
    for warning in config_warnings(raw):  # before validation, which may fail; the program logs them again
        PROGRAM_LOG.warning(str(warning))
    config = resolve(raw, allow_placeholders=True)  # fail fast, before the engine starts
    recording = run_under_mocks(raw, lambda: main(allow_placeholders=True))
    return from_recording(recording, raw.project, raw.stack, config.tier.value, public_settings(config))


def public_settings(config: StackConfig) -> dict[str, Any]:
    """The resolved config as JSON, keyed like `pulumi config`, with every secret key removed (not masked:
    even the presence of a value says something)."""
    document = config.model_dump(mode="json", by_alias=True)
    for key in config_keys():
        if key.secret:
            node = document
            for part in key.path[:-1]:
                node = node[part]
            node.pop(key.name, None)
    return document


def from_recording(
    recording: Recording, project: str, stack: str, tier: str, config: dict[str, Any] | None = None
) -> Plan:
    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "provider": r.provider,
            "custom": r.custom,
            "inputs": r.inputs,
            "options": r.options,
        }
        for r in sorted(recording.resources, key=lambda r: r.urn)
    ]
    return Plan(
        project=project,
        stack=stack,
        tier=tier,
        resources=resources,
        outputs=recording.stack_outputs,
        config=config or {},
    )


# What a plan document must hold, and the JSON type of each part.
PLAN_FIELDS: dict[str, type] = {"project": str, "stack": str, "tier": str, "resources": list, "outputs": dict}
PLAN_SHAPE = (
    "a plan is a JSON object with `project`, `stack` and `tier` (strings), `resources` (a list) and `outputs` (an"
    " object), as `plan --json` writes it"
)


class MalformedPlanFile(ValueError):
    """A file that is JSON but not a plan: the message says what a plan must contain."""


def load_plan(path: Path) -> Plan:
    """Raises OSError when the file cannot be read, ValueError (JSONDecodeError, MalformedPlanFile) when it is
    not a plan."""
    return plan_from_document(json.loads(path.read_text(encoding="utf-8")))


def plan_from_document(document: Any) -> Plan:
    if not isinstance(document, dict):
        raise MalformedPlanFile(f"{PLAN_SHAPE}; this file holds {_json_type(document)}")
    missing = [key for key in PLAN_FIELDS if key not in document]
    wrong = [
        f"its `{key}` is {_json_type(document[key])}"
        for key, kind in PLAN_FIELDS.items()
        if key in document and not isinstance(document[key], kind)
    ]
    if missing or wrong:
        found = ([f"it lacks {', '.join(f'`{key}`' for key in missing)}"] if missing else []) + wrong
        raise MalformedPlanFile(f"{PLAN_SHAPE}; {'; '.join(found)}")
    config = document.get("config") or {}  # plans written before the section existed have none
    return Plan(
        project=document["project"],
        stack=document["stack"],
        tier=document["tier"],
        resources=document["resources"],
        outputs=document["outputs"],
        config=config if isinstance(config, dict) else {},
    )


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
