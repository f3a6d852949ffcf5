"""Estimates of stacks and saved plans, the way the CLI and the finance report obtain them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from infra.cost.estimate import Account, estimate
from infra.cost.model import Estimate
from infra.cost.price_table import PriceTable
from infra.cost.usage import load_usage, stack_usage_path
from infra.plan.document import Plan, build_plan, load_plan
from infra.plan.project_files import PlanInputError, read_project


def read_plan_file(path: Path) -> Plan:
    """A plan written by `plan --json`; a missing or malformed file is bad input (exit code 2)."""
    try:
        return load_plan(path)
    except OSError as error:
        raise PlanInputError(f"{path}: cannot be read ({error.strerror or error})") from None
    except json.JSONDecodeError as error:
        raise PlanInputError(f"{path} is not a plan written by `plan --json`: not JSON ({error})") from None
    except ValueError as error:  # MalformedPlanFile: it says what a plan must contain
        raise PlanInputError(f"{path} is not a plan written by `plan --json`: {error}") from None


def is_plan_file_spec(spec: str) -> bool:
    """A plan file (an existing path, or anything ending in .json), not a stack name."""
    return Path(spec).is_file() or spec.endswith(".json")


def check_stack_exists(stack: str, project_root: Path) -> None:
    """Raises `PlanInputError` naming the known stacks when `stack` has no stack file: cheap, before planning."""
    project = read_project(project_root)
    if stack not in project.stacks():
        known = ", ".join(project.stacks()) or "none"
        raise PlanInputError(
            f"'{stack}' is neither a plan file (no such file; plan files end in .json) nor a stack (stacks: {known})"
        )


def plan_of(spec: str, project_root: Path, overrides: tuple[str, ...] = ()) -> tuple[Plan, str]:
    """`spec` is a plan file (an existing path, or anything ending in .json) or a stack name."""
    if is_plan_file_spec(spec):
        return read_plan_file(Path(spec)), f"plan {spec}"
    return build_plan(spec, overrides, project_root), f"stack {spec}"


def estimate_of(
    plan: Plan,
    project_root: Path,
    usage_file: Path | None = None,
    prices: PriceTable | None = None,
    today: dt.date | None = None,
    account: Account | None = None,
) -> Estimate:
    """The plan priced with its tier's usage defaults, its stack's usage file, then `usage_file`; `account` shares
    the free allowances and volume tiers with other stacks of the same AWS account."""
    usage = load_usage(plan.tier, stack_usage_path(project_root, plan.stack), usage_file)
    return estimate(plan, usage, prices, today, account)
