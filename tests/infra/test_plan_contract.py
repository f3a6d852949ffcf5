"""The offline plan's contract (ARCHITECTURE.md): its shape, determinism, redaction and its CLI's errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.config.loader import RawConfig
from infra.plan.document import Plan, build_plan, load_plan
from infra.plan.project_files import PlanInputError, read_project, stack_inputs
from infra.plan.recording import REDACTED, SECRET_SIG, SIG_KEY, redact
from tests.infra.plans import REPO_ROOT, plan_of

RESOURCE_KEYS = {"urn", "type", "name", "parent", "provider", "custom", "inputs", "options"}
OPTION_KEYS = {"protect", "retainOnDelete", "deleteBeforeReplace", "ignoreChanges", "dependsOn"}


def run_cli(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "infra.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Nothing may leak at interpreter exit either (the engine's event loops once did, about one run in seven).
    assert "Exception ignored" not in result.stderr, result.stderr
    return result


@pytest.mark.parametrize(
    ("stack", "overrides", "tier"), [("dev", (), "C"), ("prod", (), "A"), ("dev", ("tier=B",), "B")]
)
def test_plan_json_has_the_contract_shape(stack: str, overrides: tuple[str, ...], tier: str) -> None:
    document = json.loads(plan_of(stack, overrides).to_json())
    assert set(document) == {"project", "stack", "tier", "config", "resources", "outputs"}
    assert (document["project"], document["stack"], document["tier"]) == ("contentry", stack, tier)
    assert document["resources"], "a plan with no resources"
    urns = {r["urn"] for r in document["resources"]}
    for resource in document["resources"]:
        assert set(resource) == RESOURCE_KEYS, resource["urn"]
        assert set(resource["options"]) == OPTION_KEYS
        assert resource["urn"].startswith(f"urn:pulumi:{stack}::contentry::")
        assert resource["urn"].endswith(f"::{resource['name']}")
        assert (
            resource["parent"] is None
            or resource["parent"] in urns
            or resource["parent"].endswith("::pulumi:pulumi:Stack::contentry-" + stack)
        )
        assert isinstance(resource["custom"], bool)
        assert all(dep in urns for dep in resource["options"]["dependsOn"])
    assert [r["urn"] for r in document["resources"]] == sorted(urns)


def test_inputs_use_camel_case_engine_names_and_real_numbers(prod_plan: Plan) -> None:
    (group,) = [g for g in prod_plan.of_type("aws:cloudwatch/logGroup:LogGroup") if g["name"] == "network-flow-logs"]
    assert group["inputs"]["retentionInDays"] == 365
    assert isinstance(group["inputs"]["retentionInDays"], int)
    assert "retention_in_days" not in group["inputs"]


def test_same_input_gives_byte_identical_json(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert run_cli("plan", "--stack", "prod", "--quiet", "--json", str(first)).returncode == 0
    assert run_cli("plan", "--stack", "prod", "--quiet", "--json", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    assert build_plan("prod", (), REPO_ROOT).to_json() == first.read_text(encoding="utf-8")


def test_a_written_plan_reads_back_unchanged(tmp_path: Path) -> None:
    plan = plan_of("prod")
    path = tmp_path / "plan.json"
    path.write_text(plan.to_json(), encoding="utf-8")
    assert load_plan(path) == plan


def test_cli_prints_a_tree_by_component_with_a_count() -> None:
    result = run_cli("plan", "--stack", "dev")
    assert result.returncode == 0, result.stderr
    assert "contentry-dev" in result.stdout
    assert "network" in result.stdout
    assert "aws:ec2/vpc:Vpc" in result.stdout
    count = len(plan_of("dev").resources)
    assert f"{count} resources" in result.stdout


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "contentry-infra"
    result = subprocess.run(
        [str(script), "plan", "--stack", "dev", "--quiet"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert f"{len(plan_of('dev').resources)} resources" in result.stdout


def test_set_overrides_a_key_for_one_run() -> None:
    assert plan_of("dev", ("tier=B",)).tier == "B"
    assert plan_of("dev").tier == "C"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["plan", "--stack", "staging"], "unknown stack 'staging'"),
        (["plan", "--stack", "dev", "--set", "tier"], "expected key=value"),
        (["plan", "--stack", "dev", "--set", "tier=Z"], "contentry:tier: 'Z' is not a tier"),
        (["plan", "--stack", "prod", "--set", "domain="], "contentry:domain: production requires HTTPS"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message_and_no_traceback(args: list[str], expected: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def write_project(tmp_path: Path, stack_text: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "Pulumi.test.yaml").write_text(stack_text, encoding="utf-8")
    return tmp_path


def test_unreadable_yaml_exits_2(tmp_path: Path) -> None:
    project = write_project(tmp_path, "config:\n  contentry:tier: [unclosed\n")
    result = run_cli("plan", "--stack", "test", "--project-dir", str(project))
    assert result.returncode == 2
    assert "Pulumi.test.yaml is not valid YAML" in result.stderr
    assert "Traceback" not in result.stderr


def test_secure_values_become_secret_placeholders(tmp_path: Path) -> None:
    project = read_project(
        write_project(
            tmp_path,
            "config:\n"
            "  aws:region: us-east-1\n"
            "  contentry:atlasOrgId: 5f1e2d3c4b5a69788796a5b4\n"
            "  contentry:alertEmail: ops@contentry.ai\n"
            "  contentry:appImageTag: 1.4.2\n"
            "  contentry:cacheMode: external\n"
            "  contentry:externalRedisUrl:\n"
            "    secure: v1:ciphertextonlytheclicandecrypt\n",
        )
    )
    raw = stack_inputs(project, "test", [])
    assert "contentry:externalRedisUrl" in raw.secret_keys
    assert raw.values["contentry:externalRedisUrl"].startswith("rediss://")
    assert "ciphertext" not in json.dumps(dict(raw.values))
    plan = build_plan("test", (), tmp_path)
    assert "offline-placeholder" not in plan.to_json()


def test_pulumi_yaml_defaults_are_applied(tmp_path: Path) -> None:
    project = read_project(write_project(tmp_path, "config:\n  contentry:alertEmail: a@b.co\n"))
    raw: RawConfig = stack_inputs(project, "test", [])
    assert raw.values["contentry:tier"] == "C"
    assert raw.values["contentry:azCount"] == ""  # declared "" = the tier's preset


def test_a_stack_without_a_config_mapping_is_refused(tmp_path: Path) -> None:
    project = read_project(write_project(tmp_path, "config: [1, 2]\n"))
    with pytest.raises(PlanInputError, match="`config` must be a mapping"):
        stack_inputs(project, "test", [])


def test_redaction_replaces_every_secret_envelope() -> None:
    wire = {
        "plain": "visible",
        "password": {SIG_KEY: SECRET_SIG, "value": "hunter2"},
        "nested": [{"token": {SIG_KEY: SECRET_SIG, "value": {"deep": "hunter2"}}}],
        "count": 4.0,
    }
    redacted = redact(wire)
    assert redacted == {"plain": "visible", "password": REDACTED, "nested": [{"token": REDACTED}], "count": 4}
    assert "hunter2" not in json.dumps(redacted)
