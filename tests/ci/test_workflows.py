"""The GitHub workflows: both offline validators pass them and fail a bad one, and the hardening rules hold for
every workflow (pinned actions, minimal permissions, no persisted credentials, concurrency, a pinned Pulumi CLI,
no expression expanded inside a shell script, stacks discovered rather than listed, deploy timeouts longer than
the rollout's wait). The helper scripts are run with fake `pulumi` and `gh` executables."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.planning.compute.rollout import ROLLOUT_TIMEOUT_SECONDS
from tests.infra.plans import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
SCRIPTS = REPO_ROOT / ".github" / "scripts"
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})$")
VERSION_COMMENT = re.compile(r"uses: (?P<ref>\S+) # v\d+\.\d+\.\d+$")


def _workflows() -> dict[str, dict[str, Any]]:
    # PyYAML reads the key `on` as True (YAML 1.1); these tests do not need it.
    return {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(WORKFLOWS.glob("*.yml"))}


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _validators(folder: Path) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    workflows = sorted(str(p) for p in (folder / ".github" / "workflows").glob("*.yml"))
    schema = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *workflows],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    environment = {k: v for k, v in os.environ.items() if k not in {"GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN"}}
    audit = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--no-progress", str(folder / ".github")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment,
    )
    return schema, audit


def test_the_workflows_pass_both_validators() -> None:
    schema, audit = _validators(REPO_ROOT)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "No findings to report" in audit.stdout
    dependabot = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.dependabot",
            str(REPO_ROOT / ".github/dependabot.yml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dependabot.returncode == 0, dependabot.stdout


BAD_SECURITY = """\
name: bad
on: pull_request_target
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
"""
BAD_SCHEMA = """\
name: bad
on: push
jobs:
  build:
    runs-on: ubuntu-24.04
    timeout-minutes: soon
    steps:
      - run: echo hi
"""


@pytest.mark.parametrize(
    ("workflow", "failing"),
    [(BAD_SECURITY, "zizmor"), (BAD_SCHEMA, "check-jsonschema")],
    ids=["insecure", "schema-invalid"],
)
def test_a_bad_workflow_fails_validation(tmp_path: Path, workflow: str, failing: str) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "bad.yml").write_text(workflow, encoding="utf-8")
    schema, audit = _validators(tmp_path)
    if failing == "zizmor":
        assert audit.returncode >= 11, audit.stdout  # 11-14: the worst finding's severity
        for finding in ("unpinned-uses", "template-injection", "dangerous-triggers", "excessive-permissions"):
            assert finding in audit.stdout, finding
    else:
        assert schema.returncode != 0
        assert "timeout-minutes" in schema.stdout


def test_every_action_is_pinned_to_a_commit_with_its_version_in_a_comment() -> None:
    shas: dict[str, set[str]] = {}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip().removeprefix("- ")
            if not stripped.startswith("uses: ") or stripped.startswith("uses: $/"):
                continue
            comment = VERSION_COMMENT.match(stripped)
            assert comment is not None, f"{path.name}: {stripped} has no `# vX.Y.Z` comment"
            pinned = PINNED.match(comment["ref"])
            assert pinned is not None, f"{path.name}: {comment['ref']} is not pinned to a full commit SHA"
            shas.setdefault(pinned["action"], set()).add(pinned["sha"])
    assert {"actions/checkout", "pulumi/actions", "aws-actions/configure-aws-credentials"} <= set(shas)
    assert all(len(found) == 1 for found in shas.values()), f"one action, several commits: {shas}"


def test_permissions_are_empty_at_the_top_and_granted_per_job() -> None:
    for name, workflow in _workflows().items():
        assert workflow["permissions"] == {}, name
        for job_name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}: job {job_name} has no permissions of its own"
            assert job["permissions"] != "write-all", f"{name}: {job_name}"
            granted = {scope for scope, level in job["permissions"].items() if level == "write"}
            if "id-token" in granted:
                assert any("configure-aws-credentials" in s.get("uses", "") for s in job["steps"]), job_name


def test_no_checkout_persists_credentials() -> None:
    for name, workflow in _workflows().items():
        for step in _steps(workflow):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name


def test_no_expression_is_expanded_inside_a_shell_script() -> None:
    """Values reach scripts through `env:` and are quoted there, so nothing a pull request controls becomes
    shell code."""
    for name, workflow in _workflows().items():
        for step in _steps(workflow):
            assert "${{" not in step.get("run", ""), f"{name}: {step.get('name') or step['run'][:40]}"


def test_every_workflow_has_a_concurrency_group() -> None:
    for name, workflow in _workflows().items():
        if name == "checks.yml":  # reusable: runs inside its caller's group
            continue
        assert workflow["concurrency"]["group"], name


def test_deploys_are_never_cancelled_and_outlast_the_rollout() -> None:
    deploy = _workflows()["deploy.yml"]
    assert deploy["concurrency"]["cancel-in-progress"] is False
    for stack in ("dev", "prod"):
        job = deploy["jobs"][f"deploy-{stack}"]
        assert job["environment"] == stack
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        assert job["timeout-minutes"] * 60 > ROLLOUT_TIMEOUT_SECONDS + 30 * 60, "room for setup, up and verify"
        ups = [s for s in job["steps"] if s.get("with", {}).get("command") == "up"]
        assert len(ups) == 1
        assert ups[0]["with"]["policyPacks"] == "policy"
        assert "needs.image.outputs.digest" in ups[0]["with"]["config-map"]  # by digest, never a tag
        assert any(f"infra.cli verify --stack {stack}" in s.get("run", "") for s in job["steps"])
    assert deploy["jobs"]["deploy-prod"]["needs"] == ["image", "deploy-dev"]
    build = next(s for s in deploy["jobs"]["image"]["steps"] if "build-push-action" in s.get("uses", ""))
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert build["with"]["provenance"] is False
    assert "latest" not in build["with"]["tags"]


def test_every_pulumi_cli_is_the_pinned_version_of_the_sdk() -> None:
    version = (REPO_ROOT / ".pulumi-version").read_text(encoding="utf-8").strip()
    requirements = (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert f"\npulumi=={version}\n" in requirements, "move .pulumi-version with the pulumi SDK pin"
    for name, workflow in _workflows().items():
        for step in _steps(workflow):
            if step.get("uses", "").startswith("pulumi/actions@"):
                assert step["with"]["pulumi-version-file"] == ".pulumi-version", name
                assert "pulumi-version" not in step["with"], name


def test_stacks_are_discovered_not_listed() -> None:
    workflows = _workflows()
    for name, job in (("pull-request.yml", "preview"), ("drift.yml", "drift")):
        matrix = workflows[name]["jobs"][job]["strategy"]["matrix"]["stack"]
        assert matrix == "${{ fromJSON(needs.stacks.outputs.stacks) }}", name
        discover = workflows[name]["jobs"]["stacks"]["steps"][-1]["run"]
        assert "infra.cli ci stacks --json" in discover
    preview = next(s for s in _steps(workflows["pull-request.yml"]) if s.get("with", {}).get("command") == "preview")
    assert preview["with"]["policyPacks"] == "policy"
    assert preview["with"]["comment-on-pr"] is True
    drift = next(s for s in _steps(workflows["drift.yml"]) if s.get("with", {}).get("command") == "preview")
    assert drift["with"]["refresh"] is True
    assert drift["with"]["expect-no-changes"] is True


# The helper scripts -------------------------------------------------------------------------------------------


def _executable(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _run_script(script: str, args: list[str], bin_dir: Path, tmp_path: Path) -> tuple[int, str, str]:
    output = tmp_path / "github_output"
    output.write_text("", encoding="utf-8")
    environment = os.environ | {"PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin", "GITHUB_OUTPUT": str(output)}
    finished = subprocess.run(
        ["bash", str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=environment,
    )
    return finished.returncode, finished.stdout, output.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("output", "expected", "notice"),
    [
        ("sha256:" + "a" * 64, "sha256:" + "a" * 64, False),
        ("", "0123456789abcdef0123456789abcdef01234567", True),
    ],
    ids=["deployed", "never-deployed"],
)
def test_the_preview_uses_the_deployed_image(tmp_path: Path, output: str, expected: str, notice: bool) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    answer = f'echo "{output}"; exit 0' if output else "echo 'error: no output appImageTag' >&2; exit 255"
    _executable(bin_dir, "pulumi", f'case "$1" in login) exit 0 ;; stack) {answer} ;; esac\nexit 1\n')
    code, stdout, written = _run_script(
        "deployed-image-tag.sh", ["dev", "0123456789abcdef0123456789abcdef01234567"], bin_dir, tmp_path
    )
    assert code == 0, stdout
    assert written == f"tag={expected}\n"
    assert ("::notice" in stdout) is notice


def test_the_preview_refuses_an_image_value_that_is_not_a_tag(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _executable(bin_dir, "pulumi", 'case "$1" in login) exit 0 ;; esac\necho "x\', secret: true}"\n')
    code, stdout, written = _run_script("deployed-image-tag.sh", ["dev", "abc"], bin_dir, tmp_path)
    assert code == 1
    assert "is neither an image tag nor a sha256 digest" in stdout
    assert written == ""


@pytest.mark.parametrize(("open_issue", "expected"), [("", "create"), ("42", "comment 42")], ids=["new", "open"])
def test_drift_opens_one_issue_per_stack_then_comments_on_it(tmp_path: Path, open_issue: str, expected: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "gh-calls"
    _executable(
        bin_dir,
        "gh",
        # One line per call: the issue body's newlines folded.
        f'printf "%s" "$*" | tr "\\n" " " >> "{calls}"; echo >> "{calls}"\n'
        f'if [ "$1 $2" = "issue list" ]; then echo "{open_issue}"; fi\n'
        "exit 0\n",
    )
    code, stdout, _ = _run_script("drift-issue.sh", ["prod", "https://example.com/run/1"], bin_dir, tmp_path)
    assert code == 0, stdout
    made = calls.read_text(encoding="utf-8").splitlines()
    assert made[0].startswith("label create drift")
    assert made[1].startswith("issue list --label drift --state open")
    if expected == "create":
        assert made[2].startswith("issue create --title Drift: stack prod --label drift --body")
    else:
        assert made[2].startswith("issue comment 42 --body")
    assert "https://example.com/run/1" in made[2]
    assert len(made) == 3


def test_dependabot_watches_actions_and_pip() -> None:
    config = yaml.safe_load((REPO_ROOT / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    ecosystems = {update["package-ecosystem"]: update for update in config["updates"]}
    assert set(ecosystems) == {"github-actions", "pip"}
    assert {"/", "/app", "/bench"} <= set(ecosystems["pip"]["directories"])
    assert all(update["cooldown"]["default-days"] >= 7 for update in config["updates"])
    assert json.dumps(config)  # plain data, nothing YAML-specific
