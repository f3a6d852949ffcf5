"""Rotating the app's JWT keys with `jwtKeyGeneration`: which keys the secret holds, which resources a rotation
creates and deletes, and that it rolls every instance (tiers A and C) and every pod (tier B), through the plan."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from infra.plan.document import Plan
from infra.plan.mocks import _offline_secret
from infra.planning.data.jwt_keys import jwt_settings, key_generations, key_id
from infra.planning.kubernetes.workload import SETTINGS_CHECKSUM_ANNOTATION
from tests.infra.data.data_support import app_settings_of
from tests.infra.plans import plan_of
from tests.infra.test_no_plaintext_credentials import generated_secrets, leaks

PASSWORD = "random:index/randomPassword:RandomPassword"
SHAPES = {"dev (C)": ("dev", ()), "prod (A)": ("prod", ()), "prod (B)": ("prod", ("tier=B",))}


# The generations, as pure functions.


def test_generation_n_holds_the_previous_the_current_and_the_next_key() -> None:
    assert key_generations(1) == (1, 2), "no generation 0"
    assert key_generations(2) == (1, 2, 3)
    assert key_generations(7) == (6, 7, 8)
    with pytest.raises(ValueError, match="below 1"):
        key_generations(0)


@pytest.mark.parametrize("generation", [1, 2, 5])
def test_a_rotation_adds_one_key_and_drops_the_one_before_the_previous(generation: int) -> None:
    before, after = set(key_generations(generation)), set(key_generations(generation + 1))
    assert after - before == {generation + 2}
    assert before - after == ({generation - 1} if generation > 1 else set())
    assert generation in after, "the key that signed until now is still accepted after the rotation"
    assert generation + 1 in before, "the key that signs after the rotation was accepted before it"


def test_the_app_gets_its_keys_by_kid_and_the_current_kid() -> None:
    values = jwt_settings({1: "a" * 64, 2: "b" * 64, 3: "c" * 64}, generation=2)
    assert json.loads(values["JWT_KEYS"]) == {"gen-1": "a" * 64, "gen-2": "b" * 64, "gen-3": "c" * 64}
    assert "\n" not in values["JWT_KEYS"], "one line: the instance writes each key as one env-file line"
    assert values["JWT_CURRENT_KID"] == key_id(2) == "gen-2"
    with pytest.raises(ValueError, match="needs the keys of generations"):
        jwt_settings({1: "a" * 64, 2: "b" * 64}, generation=2)


# Through the plan.


def jwt_passwords(plan: Plan) -> dict[str, str]:
    """The JWT key passwords by resource name, with the URN the engine tracks them by."""
    return {r["name"]: r["urn"] for r in plan.of_type(PASSWORD) if "-jwt-key-" in r["name"]}


def keys_of(stack: str, overrides: tuple[str, ...]) -> tuple[dict[str, str], str]:
    values = app_settings_of(stack, overrides)
    return json.loads(values["JWT_KEYS"]), values["JWT_CURRENT_KID"]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_rotation_creates_one_key_keeps_two_and_drops_one(shape: str) -> None:
    stack, overrides = SHAPES[shape]
    at = {g: jwt_passwords(plan_of(stack, (*overrides, f"jwtKeyGeneration={g}"))) for g in (1, 2, 3)}
    assert sorted(at[1]) == ["app-secret-jwt-key-1", "app-secret-jwt-key-2"]
    assert sorted(at[2]) == ["app-secret-jwt-key-1", "app-secret-jwt-key-2", "app-secret-jwt-key-3"]
    assert sorted(at[3]) == ["app-secret-jwt-key-2", "app-secret-jwt-key-3", "app-secret-jwt-key-4"]
    # The kept keys are the same resources (same URN): the engine leaves them, and their values, alone.
    for name in ("app-secret-jwt-key-2", "app-secret-jwt-key-3"):
        assert at[2][name] == at[3][name]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_after_a_rotation_the_app_signs_with_the_new_key_and_keeps_the_previous_one(shape: str) -> None:
    stack, overrides = SHAPES[shape]
    before, current_before = keys_of(stack, (*overrides, "jwtKeyGeneration=2"))
    after, current_after = keys_of(stack, (*overrides, "jwtKeyGeneration=3"))
    assert (current_before, current_after) == ("gen-2", "gen-3")
    assert sorted(before) == ["gen-1", "gen-2", "gen-3"]
    assert sorted(after) == ["gen-2", "gen-3", "gen-4"]
    assert after["gen-2"] == before["gen-2"], "tokens signed before the rotation still verify"
    assert after["gen-3"] == before["gen-3"], "the new signing key was already accepted everywhere"
    assert "gen-1" not in after, "tokens older than the previous key are refused"
    assert len(set(after.values())) == 3
    assert app_settings_of(stack, (*overrides, "jwtKeyGeneration=3"))["JWT_SECRET"] == after["gen-3"]


def user_data(plan: Plan) -> str:
    (template,) = [r for r in plan.resources if r["name"] == "app-fleet-template"]
    return base64.b64decode(template["inputs"]["userData"]).decode()


def settings_digest_line(text: str) -> str:
    (line,) = [line.strip() for line in text.splitlines() if "readonly SETTINGS_SHA256=" in line]
    return line


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_rotation_is_a_new_launch_template_version_so_the_fleet_rolls(stack: str) -> None:
    before, after = user_data(plan_of(stack)), user_data(plan_of(stack, ("jwtKeyGeneration=2",)))
    assert before != after, "a new user data is a new template version, which the rollout replaces every instance with"
    assert [line for line in before.splitlines() if "SETTINGS_SHA256=" not in line] == [
        line for line in after.splitlines() if "SETTINGS_SHA256=" not in line
    ], "only the settings digest differs"
    # The digest is of the very document the secret holds.
    document = json.dumps(app_settings_of(stack, ("jwtKeyGeneration=2",)), sort_keys=True)
    assert settings_digest_line(after) == f"readonly SETTINGS_SHA256={hashlib.sha256(document.encode()).hexdigest()}"
    assert user_data(plan_of(stack)) == before, "the same config is the same version: no needless rollout"


def pod_template_annotations(plan: Plan) -> dict[str, str]:
    deployment = next(d for d in plan.of_type("kubernetes:apps/v1:Deployment") if d["name"] == "app-deployment")
    return deployment["inputs"]["spec"]["template"]["metadata"]["annotations"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_rotation_changes_the_pod_template_so_the_pods_roll(stack: str) -> None:
    before = pod_template_annotations(plan_of(stack, ("tier=B",)))
    after = pod_template_annotations(plan_of(stack, ("tier=B", "jwtKeyGeneration=2")))
    assert before[SETTINGS_CHECKSUM_ANNOTATION] != after[SETTINGS_CHECKSUM_ANNOTATION]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_rotated_plan_shows_no_key(shape: str) -> None:
    stack, overrides = SHAPES[shape]
    plan = plan_of(stack, (*overrides, "jwtKeyGeneration=2"))
    assert leaks(plan) == []
    document = plan.to_json()
    keys = [_offline_secret(name, 64) for name in jwt_passwords(plan)]
    assert len(keys) == 3
    assert set(keys) <= set(generated_secrets(plan))
    for key in keys:
        assert key[:16] not in document
        # Nor can the digest stand for a key alone: it is of the whole document.
        assert hashlib.sha256(key.encode()).hexdigest() not in document
