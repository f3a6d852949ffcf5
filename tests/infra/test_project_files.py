"""Pulumi.yaml and the stack files: generated from the model, complete, and honest about placeholders."""

from __future__ import annotations

import pytest
import yaml

from infra.config import InvalidStackConfig
from infra.config.keys import config_keys
from infra.config.loader import resolve
from infra.config.project_file import render
from infra.plan.project_files import read_project, stack_inputs
from tests.infra.plans import REPO_ROOT


def test_pulumi_yaml_is_generated_from_the_model() -> None:
    committed = (REPO_ROOT / "Pulumi.yaml").read_text(encoding="utf-8")
    assert committed == render(), "run: python -m infra.config.project_file > Pulumi.yaml"


def test_pulumi_yaml_declares_every_project_key_with_type_and_description() -> None:
    document = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert document["name"] == "contentry"
    assert document["main"] == "infra/"
    assert document["runtime"]["options"]["virtualenv"] == ".venv"
    declared = document["config"]
    own = [key for key in config_keys() if ":" not in key.name]
    assert set(declared) == {key.name for key in own}
    for key in own:
        spec = declared[key.name]
        assert spec["type"] == "string"
        assert spec["description"]
        # Without a default the CLI requires the key: exactly the keys with no sensible default.
        assert ("default" in spec) == (not key.required), key.name


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_are_valid_offline(stack: str) -> None:
    project = read_project(REPO_ROOT)
    config = resolve(stack_inputs(project, stack, []), allow_placeholders=True)
    assert config.stack == stack


def test_dev_is_tier_c_and_prod_is_tier_a_in_production() -> None:
    project = read_project(REPO_ROOT)
    dev = resolve(stack_inputs(project, "dev", []), allow_placeholders=True)
    prod = resolve(stack_inputs(project, "prod", []), allow_placeholders=True)
    assert (dev.tier.value, dev.is_production) == ("C", False)
    assert (prod.tier.value, prod.is_production) == ("A", True)
    assert prod.https_enabled


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_real_run_refuses_the_committed_placeholders_with_the_command_to_run(stack: str) -> None:
    project = read_project(REPO_ROOT)
    with pytest.raises(InvalidStackConfig) as caught:
        resolve(stack_inputs(project, stack, []))
    message = str(caught.value)
    assert f"pulumi config set atlasOrgId <value> --stack {stack}" in message
    assert f"pulumi config set alertEmail <value> --stack {stack}" in message


def test_stack_files_hold_no_plain_credentials() -> None:
    for path in REPO_ROOT.glob("Pulumi.*.yaml"):
        text = path.read_text(encoding="utf-8").lower()
        for marker in ("password", "privatekey: ", "secretkey", "token: "):
            assert marker not in text, f"{path.name} contains {marker!r}"
