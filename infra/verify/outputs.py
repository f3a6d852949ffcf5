"""Where verify gets a stack's outputs: `pulumi stack output --json` (where the CLI and the state backend are
reachable, as in the deploy job), or a file holding that command's output (`--outputs FILE`)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from infra.plan.project_files import PlanInputError

PULUMI_TIMEOUT_SECONDS = 300
"""A hang guard for `pulumi stack output`: it reads the state backend, seconds normally."""


def read_outputs_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PlanInputError(f"--outputs {path}: cannot be read ({error.strerror or error})") from None
    return _parse(text, f"--outputs {path}")


def pulumi_stack_outputs(stack: str, project_root: Path, pulumi: str = "pulumi") -> dict[str, Any]:
    """The stack's outputs as the Pulumi CLI reports them (secret outputs stay masked: verify needs none)."""
    executable = shutil.which(pulumi)
    if executable is None:
        raise PlanInputError(
            "the Pulumi CLI (pulumi) is not on PATH: install it, or pass the outputs as a file: "
            f"pulumi stack output --json --stack {stack} > outputs.json, then --outputs outputs.json"
        )
    try:
        finished = subprocess.run(  # noqa: S603 (the Pulumi CLI found on PATH, fixed arguments)
            [executable, "stack", "output", "--json", "--stack", stack],
            cwd=project_root,
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PlanInputError(
            f"pulumi stack output --stack {stack} gave no answer in {PULUMI_TIMEOUT_SECONDS} s"
        ) from None
    if finished.returncode != 0:
        reason = finished.stderr.strip() or finished.stdout.strip() or f"exit code {finished.returncode}"
        raise PlanInputError(f"pulumi stack output --json --stack {stack} failed: {reason}")
    return _parse(finished.stdout, f"pulumi stack output --json --stack {stack}")


def _parse(text: str, source: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanInputError(f"{source}: not JSON ({error})") from None
    if not isinstance(document, dict):
        raise PlanInputError(f"{source}: expected a JSON object of outputs, found {type(document).__name__}")
    return document
