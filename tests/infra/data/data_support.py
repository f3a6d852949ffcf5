"""Helpers for the data-tier tests: resources by name, and the app secret's real value under the mock engine.

The plan redacts every secret (that is its contract), so the tests that check what the app will actually
read capture the SecretVersion's input as the mock engine receives it, before redaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any
from unittest.mock import patch

from infra.config.model import Tier
from infra.config.presets import TIER_PRESETS
from infra.plan.document import Plan, build_plan
from infra.plan.mocks import PlanMocks
from infra.plan.recording import SIG_KEY
from tests.infra.plans import REPO_ROOT, STACKS, plan_of

SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"

# Extra shapes beyond STACKS that the data tier must handle.
EXTERNAL_REDIS_PASSWORD = "offline-external-password"
EXTERNAL_CACHE = (
    "dev",
    ("cacheMode=external", f"externalRedisUrl=rediss://default:{EXTERNAL_REDIS_PASSWORD}@redis.example.com:6380"),
)


def configured(stack_id: str, key: str) -> str:
    """What `key` is in the shape `stack_id`: its override in STACKS, else its tier's preset.

    Expected sizes come from the presets instead of being repeated in the tests, so a preset change (tier C's
    cache node, say) moves the expectation with it while a component that ignores the config still fails.
    """
    stack, overrides = STACKS[stack_id]
    overridden = dict(override.split("=", 1) for override in overrides)
    if key in overridden:
        return overridden[key]
    return TIER_PRESETS[Tier(plan_of(stack, overrides).tier)][key]


def resource(plan: Plan, name: str) -> dict[str, Any]:
    matches = [r for r in plan.resources if r["name"] == name]
    assert len(matches) == 1, f"{plan.stack}/{plan.tier}: expected one resource named {name}, found {len(matches)}"
    return matches[0]


def only(plan: Plan, type_token: str) -> dict[str, Any]:
    matches = plan.of_type(type_token)
    assert len(matches) == 1, f"{plan.stack}/{plan.tier}: expected one {type_token}, found {len(matches)}"
    return matches[0]


def unwrap(value: Any) -> Any:
    if isinstance(value, dict) and SIG_KEY in value:
        return unwrap(value.get("value"))
    return value


@cache
def app_settings_of(stack: str, overrides: tuple[str, ...] = ()) -> dict[str, str]:
    """The JSON object the app's secret will hold, as the program builds it for `stack`."""
    return app_settings_when(stack, overrides)


def app_settings_when(
    stack: str,
    overrides: tuple[str, ...] = (),
    provider_state: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, str]:
    """The app's settings when the providers answer differently: `provider_state(type, state)` edits what the
    mock engine returns for each resource (a cloud that has not filled in an output yet, say)."""
    captured: list[Any] = []
    original = PlanMocks.new_resource

    def spy(self: PlanMocks, args: Any) -> Any:
        if args.typ == SECRET_VERSION:
            captured.append(unwrap(args.inputs["secretString"]))
        resource_id, state = original(self, args)
        return resource_id, provider_state(args.typ, state) if provider_state else state

    with patch.object(PlanMocks, "new_resource", spy):
        build_plan(stack, overrides, REPO_ROOT)
    assert len(captured) == 1, f"expected one secret version, saw {len(captured)}"
    return json.loads(captured[0])
