"""Which plans CI writes: every committed stack (a `Pulumi.<stack>.yaml` file, never a hard-coded list), plus
one variant per tier that no committed stack runs (today tier B: `dev` with `--set tier=B`), so the policy rules
see every tier the program can build. Plans run one subprocess each, from the project folder given: a failing
plan never stops the others, and a checkout of another commit (the pull request's base) plans with its own code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.config.model import Tier
from infra.plan.project_files import PlanInputError, read_project, stack_inputs

INDEX_FILE = "index.json"
"""What `plan_all` wrote, per target: its plan file, or why it has none (the cost comment reads it)."""
PLAN_TIMEOUT_SECONDS = 600
"""A hang guard: one plan takes seconds; the subprocess is killed past this."""


@dataclass(frozen=True)
class PlanTarget:
    stack: str
    overrides: tuple[str, ...] = ()

    @property
    def committed(self) -> bool:
        """A stack as committed (its own config only), as opposed to a variant with --set."""
        return not self.overrides

    @property
    def key(self) -> str:
        """`dev`, or `dev+tier=B` for a variant: unique, and the plan file's name without `.json`."""
        return "+".join((self.stack, *self.overrides))

    @property
    def file_name(self) -> str:
        return f"{self.key}.json"


@dataclass(frozen=True)
class PlanResult:
    target: PlanTarget
    plan_file: str | None
    """The plan's file name in the output folder; None when the plan failed."""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.plan_file is not None


def committed_stacks(project_root: Path) -> list[str]:
    """The stacks committed in the project (`Pulumi.<stack>.yaml` in its stackConfigDir), sorted."""
    stacks = read_project(project_root).stacks()
    if not stacks:
        raise PlanInputError(f"no Pulumi.<stack>.yaml in {project_root}: there is no stack to plan")
    return stacks


def stack_tier(project_root: Path, stack: str) -> str:
    """The tier a committed stack runs: its `tier` key, else Pulumi.yaml's default."""
    project = read_project(project_root)
    raw = stack_inputs(project, stack, [])
    return raw.values.get(f"{project.name}:tier", "")


def plan_targets(project_root: Path, *, every_tier: bool = True) -> list[PlanTarget]:
    """Every committed stack; with `every_tier`, then one variant of the first stack per tier no stack runs."""
    stacks = committed_stacks(project_root)
    targets = [PlanTarget(stack) for stack in stacks]
    if every_tier:
        covered = {stack_tier(project_root, stack) for stack in stacks}
        targets += [PlanTarget(stacks[0], (f"tier={tier.value}",)) for tier in Tier if tier.value not in covered]
    return targets


Runner = Callable[[Sequence[str], Path], "subprocess.CompletedProcess[str]"]


def _run(command: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own interpreter and CLI, arguments from the stack files)
        list(command), cwd=cwd, capture_output=True, text=True, timeout=PLAN_TIMEOUT_SECONDS, check=False
    )


def plan_command(target: PlanTarget, out_file: Path) -> list[str]:
    command = [sys.executable, "-m", "infra.cli", "plan", "--stack", target.stack, "--quiet", "--json", str(out_file)]
    for override in target.overrides:
        command += ["--set", override]
    return command


def plan_all(project_root: Path, out_dir: Path, targets: Sequence[PlanTarget], run: Runner = _run) -> list[PlanResult]:
    """Plan every target with the CLI of `project_root` (its own code), writing `out_dir/<key>.json` and
    `out_dir/index.json`. Every target runs whatever the others do."""
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for target in targets:
        out_file = out_dir / target.file_name
        out_file.unlink(missing_ok=True)  # a stale plan from an earlier run must not pass for this one
        try:
            finished = run(plan_command(target, out_file), project_root)
        except subprocess.TimeoutExpired:
            results.append(PlanResult(target, None, f"no plan after {PLAN_TIMEOUT_SECONDS} s"))
            continue
        if finished.returncode == 0 and out_file.is_file():
            results.append(PlanResult(target, target.file_name))
        else:
            message = (finished.stderr or finished.stdout).strip().splitlines()
            reason = message[-1] if message else f"exit code {finished.returncode}"
            results.append(PlanResult(target, None, f"plan failed (exit {finished.returncode}): {reason}"))
    write_index(out_dir, results)
    return results


def write_index(out_dir: Path, results: Sequence[PlanResult]) -> None:
    document = {
        result.target.key: {
            "stack": result.target.stack,
            "overrides": list(result.target.overrides),
            "plan": result.plan_file,
            "error": result.error,
        }
        for result in results
    }
    (out_dir / INDEX_FILE).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_index(out_dir: Path) -> dict[str, PlanResult]:
    """The committed stacks' results from `out_dir/index.json`, by stack name (variants are left out)."""
    path = out_dir / INDEX_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PlanInputError(f"{path}: cannot be read ({error.strerror or error}); write it with `ci plans`") from None
    except json.JSONDecodeError as error:
        raise PlanInputError(f"{path} is not JSON written by `ci plans` ({error})") from None
    results = {}
    for entry in document.values():
        target = PlanTarget(entry["stack"], tuple(entry.get("overrides") or ()))
        if target.committed:
            results[target.stack] = PlanResult(target, entry.get("plan"), entry.get("error") or "")
    return results
