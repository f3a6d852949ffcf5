"""Estimates of stacks and saved plans, the way the CLI and the finance report obtain them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from infra.cost.estimate import estimate
from infra.cost.model import Estimate
from infra.cost.price_table import PriceTable
from infra.cost.usage import load_usage, stack_usage_path
from infra.plan.document import Plan, build_plan, load_plan
from infra.plan.project_files import PlanInputError


def read_plan_file(path: Path) -> Plan:
    """A plan written by `plan --json`; a missing or malformed file is bad input (exit code 2)."""
    try:
        return load_plan(path)
    except OSError as error:
        raise PlanInputError(f"{path}: cannot be read ({error.strerror or error})") from None
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise PlanInputError(f"{path} is not a plan written by `plan --json` ({error})") from None


def plan_of(spec: str, project_root: Path, overrides: tuple[str, ...] = ()) -> tuple[Plan, str]:
    """`spec` is a plan file (an existing path, or anything ending in .json) or a stack name."""
    path = Path(spec)
    if path.is_file() or spec.endswith(".json"):
        return read_plan_file(path), f"plan {spec}"
    return build_plan(spec, overrides, project_root), f"stack {spec}"


def estimate_of(
    plan: Plan,
    project_root: Path,
    usage_file: Path | None = None,
    prices: PriceTable | None = None,
    today: dt.date | None = None,
) -> Estimate:
    """The plan priced with its tier's usage defaults, its stack's usage file, then `usage_file`."""
    usage = load_usage(plan.tier, stack_usage_path(project_root, plan.stack), usage_file)
    return estimate(plan, usage, prices, today)
