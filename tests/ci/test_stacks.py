"""Stack discovery and `ci plans`: the stacks are the committed Pulumi.<stack>.yaml files, every tier is planned,
and every plan runs whatever the others do, with a failing one named."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from infra.ci.stacks import (
    INDEX_FILE,
    PlanTarget,
    committed_stacks,
    plan_all,
    plan_targets,
    read_index,
)
from infra.cli import run
from infra.plan.project_files import PlanInputError
from tests.infra.plans import REPO_ROOT


def _project(folder: Path, stacks: dict[str, str], *, config_dir: str = "") -> Path:
    """A project folder with the repository's Pulumi.yaml (optionally with stackConfigDir) and stack files."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (REPO_ROOT / "Pulumi.yaml").read_text(encoding="utf-8")
    if config_dir:
        text += f"stackConfigDir: {config_dir}\n"
    (folder / "Pulumi.yaml").write_text(text, encoding="utf-8")
    where = folder / config_dir if config_dir else folder
    where.mkdir(parents=True, exist_ok=True)
    for name, body in stacks.items():
        (where / name).write_text(body, encoding="utf-8")
    return folder


def test_the_stacks_are_the_committed_stack_files() -> None:
    on_disk = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in REPO_ROOT.glob("Pulumi.*.yaml"))
    assert committed_stacks(REPO_ROOT) == on_disk
    assert {"dev", "prod"} <= set(on_disk)


def test_discovery_reads_the_stack_config_dir_and_both_extensions(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {
            "Pulumi.qa.yaml": "config: {}\n",
            "Pulumi.edge.yml": "config: {}\n",
            "Pulumi.old.yaml.bak": "config: {}\n",
            "notes.yaml": "x: 1\n",
        },
        config_dir="stacks",
    )
    (project / "Pulumi.ignored.yaml").write_text("config: {}\n", encoding="utf-8")  # outside stackConfigDir
    assert committed_stacks(project) == ["edge", "qa"]


def test_a_project_without_stacks_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PlanInputError, match=r"no Pulumi\.<stack>\.yaml"):
        committed_stacks(_project(tmp_path, {}))


def test_every_tier_is_planned_once() -> None:
    """dev runs C and prod A: tier B, which no committed stack runs, is planned as dev with --set tier=B."""
    targets = plan_targets(REPO_ROOT)
    assert [t.key for t in targets] == ["dev", "prod", "dev+tier=B"]
    assert [t.key for t in plan_targets(REPO_ROOT, every_tier=False)] == ["dev", "prod"]


def test_no_variant_when_the_stacks_cover_every_tier(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {f"Pulumi.{name}.yaml": f"config:\n  contentry:tier: {tier}\n" for name, tier in (("a", "A"), ("b", "B"))},
    )
    # c has no tier key: Pulumi.yaml's default (C) applies, as under the CLI.
    (project / "Pulumi.c.yaml").write_text("config: {}\n", encoding="utf-8")
    assert [t.key for t in plan_targets(project)] == ["a", "b", "c"]


class _CountingRunner:
    """Stands in for the plan subprocess: writes the plan file, except for the stacks told to fail."""

    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.calls: list[list[str]] = []

    def __call__(self, command: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(command))
        stack = command[command.index("--stack") + 1]
        if stack in self.failing:
            return subprocess.CompletedProcess(command, 2, "", f"error: {stack} is broken\n")
        Path(command[command.index("--json") + 1]).write_text("{}", encoding="utf-8")
        return subprocess.CompletedProcess(command, 0, "", "")


def test_every_plan_runs_when_one_fails(tmp_path: Path) -> None:
    targets = [PlanTarget("a"), PlanTarget("b"), PlanTarget("c"), PlanTarget("a", ("tier=B",))]
    runner = _CountingRunner(failing={"b"})
    results = plan_all(tmp_path, tmp_path / "plans", targets, run=runner)
    assert len(runner.calls) == 4
    assert [r.ok for r in results] == [True, False, True, True]
    assert results[1].error == "plan failed (exit 2): error: b is broken"
    assert runner.calls[3][-2:] == ["--set", "tier=B"]
    index = json.loads((tmp_path / "plans" / INDEX_FILE).read_text(encoding="utf-8"))
    assert index["b"] == {
        "stack": "b",
        "overrides": [],
        "plan": None,
        "error": "plan failed (exit 2): error: b is broken",
    }
    assert index["a+tier=B"]["plan"] == "a+tier=B.json"
    # The cost comment reads the committed stacks only.
    assert sorted(read_index(tmp_path / "plans")) == ["a", "b", "c"]


def test_a_stale_plan_never_passes_for_a_failed_one(tmp_path: Path) -> None:
    out = tmp_path / "plans"
    out.mkdir()
    (out / "b.json").write_text('{"stale": true}', encoding="utf-8")
    results = plan_all(tmp_path, out, [PlanTarget("b")], run=_CountingRunner(failing={"b"}))
    assert not results[0].ok
    assert not (out / "b.json").exists()


def test_read_index_names_a_missing_or_broken_index(tmp_path: Path) -> None:
    with pytest.raises(PlanInputError, match="cannot be read"):
        read_index(tmp_path)
    (tmp_path / INDEX_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(PlanInputError, match="not JSON written by `ci plans`"):
        read_index(tmp_path)


@pytest.mark.slow
def test_ci_plans_runs_the_real_cli_per_stack_and_names_the_broken_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path / "project", {"Pulumi.broken.yaml": "config:\n  contentry:tier: Z\n"})
    shutil.copy(REPO_ROOT / "Pulumi.dev.yaml", project / "Pulumi.dev.yaml")
    out = tmp_path / "plans"
    code = run(["ci", "plans", "--project-dir", str(project), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "FAILED broken: plan failed (exit 2)" in captured.err
    assert "contentry:tier" in captured.err
    assert "1 of 2 plans failed: broken" in captured.err
    plan = json.loads((out / "dev.json").read_text(encoding="utf-8"))
    assert (plan["stack"], plan["tier"]) == ("dev", "C")
    assert plan["resources"]


def test_ci_stacks_prints_a_json_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ci", "stacks", "--json", "--project-dir", str(REPO_ROOT)]) == 0
    assert json.loads(capsys.readouterr().out) == committed_stacks(REPO_ROOT)
