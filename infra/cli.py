"""`python -m infra.cli` (or `contentry-infra`): the tools that need no cloud credentials.

plan   run the real program offline under the mock engine; print the resource tree, write the JSON plan
cost   price a stack's plan (or a saved plan) from the offline price table; diff it; guard the monthly budget
       (exit 3 over budget, 4 when a budget is set but a baseline item is unpriced, 2 on bad input)
check  run the project's policy rules (infra/policy, also the Pulumi policy pack in policy/) over a stack's plan
       (exit 1 on a mandatory violation, 2 on bad input)
ci     what the CI workflows run: stack discovery, every plan, the pull request's cost comment, the image gate
verify check a deployed stack (needs AWS credentials): /api/health, targets, capacity, alarms (exit 1 on a failure)
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from rich.console import Console

EXIT_POLICY_VIOLATION = 1
EXIT_INPUT_ERROR = 2
EXIT_OVER_BUDGET = 3
EXIT_BUDGET_UNCHECKABLE = 4
DEFAULT_STACK = "dev"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contentry-infra", description=(__doc__ or "").split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    plan = commands.add_parser("plan", help="plan a stack offline (no cloud, no Pulumi CLI)")
    plan.add_argument("--stack", default="dev", help="stack name: reads Pulumi.<stack>.yaml (default: dev)")
    plan.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key for this run only, for example --set tier=B (repeatable)",
    )
    plan.add_argument("--json", type=Path, metavar="PATH", help="also write the plan as JSON to PATH")
    plan.add_argument("--project-dir", type=Path, help="folder with Pulumi.yaml (default: found upwards)")
    plan.add_argument("--quiet", action="store_true", help="print only the summary line, not the tree")

    cost = commands.add_parser(
        "cost",
        help="estimate a stack's monthly cost offline (exit 3 over monthlyBudgetUsd, 4 when it cannot be checked)",
        description="Price the stack's offline plan from the versioned price table (infra/cost/prices.yaml) and "
        "usage assumptions (the tier's defaults, usage/<stack>.yaml, then --usage). Exits 3 when the estimate "
        "exceeds the stack's monthlyBudgetUsd, 4 when a budget is set but a baseline item is unpriced (the total "
        "is then only a lower bound), 2 on bad input.",
    )
    _add_plan_source(cost, "price")
    cost.add_argument("--format", choices=("table", "markdown", "csv", "json"), default="table")
    cost.add_argument("--usage", type=Path, metavar="FILE", help="usage assumptions layered over the defaults")
    cost.add_argument(
        "--against",
        metavar="PLAN_OR_STACK",
        help="show the change against a saved plan (a .json file) or another stack, per resource and in total",
    )
    cost.add_argument("--project-dir", type=Path, help="folder with Pulumi.yaml (default: found upwards)")
    views = cost.add_mutually_exclusive_group()
    views.add_argument(
        "--stacks",
        metavar="STACKS",
        help="finance view: these stacks (comma-separated, or `all` for every committed stack), each with its total "
        "per month and per year, the stacks of one AWS account priced together (they share its free allowances)",
    )
    views.add_argument(
        "--compare-tiers",
        action="store_true",
        help="finance view: the three tiers side by side for the stack's settings (--stack, --set), each at its own "
        "traffic model",
    )

    check = commands.add_parser(
        "check",
        help="run the policy rules over a stack's plan (exit 1 on a mandatory violation)",
        description="Run the project's policy rules (infra/policy; the same rules as the Pulumi policy pack in "
        "policy/) over the stack's offline plan, or a saved plan. Prints every violation with its rule, level and "
        "the Checkov/Trivy checks it corresponds to. Exits 1 when any mandatory rule is violated (advisory ones "
        "are only printed), 2 on bad input.",
    )
    _add_plan_source(check, "check")
    check.add_argument("--format", choices=("table", "json"), default="table")
    check.add_argument("--list-rules", action="store_true", help="print the rules (ids, levels, Checkov/Trivy ids)")
    check.add_argument("--project-dir", type=Path, help="folder with Pulumi.yaml (default: found upwards)")

    from infra.ci.commands import add_ci_commands
    from infra.verify.command import add_verify_command

    add_ci_commands(commands)
    add_verify_command(commands)
    return parser


def _add_plan_source(command: argparse.ArgumentParser, verb: str) -> None:
    """Where `cost` and `check` get their plan: a stack (with overrides) built now, or a saved plan file."""
    command.add_argument(
        "--stack", help=f"stack name: reads Pulumi.<stack>.yaml (default: {DEFAULT_STACK}); not with --plan"
    )
    command.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key for this run only, for example --set tier=B (repeatable)",
    )
    command.add_argument(
        "--plan",
        type=Path,
        metavar="PATH",
        help=f"{verb} this saved plan (plan --json) instead of a stack; its own config applies, so not with --stack"
        " or --set",
    )


def _plan(args: argparse.Namespace, out: Console) -> int:
    from infra.plan.document import build_plan
    from infra.plan.render import print_plan, summary

    plan = build_plan(args.stack, args.overrides, args.project_dir)
    if args.quiet:
        out.print(summary(plan))
    else:
        print_plan(plan, out)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(plan.to_json(), encoding="utf-8")
        out.print(f"plan written to {args.json}")
    return 0


def _cost(args: argparse.Namespace, out: Console, err: Console) -> int:
    from infra.cost import render
    from infra.cost.diff import diff
    from infra.cost.model import BudgetStatus
    from infra.cost.stacks import check_stack_exists, estimate_of, is_plan_file_spec, plan_of, read_plan_file
    from infra.plan.project_files import PlanInputError, find_project_root

    if args.plan and (args.stack or args.overrides):
        # A saved plan was made with its own stack and config; pricing it "as" another silently would mislead.
        raise PlanInputError(
            "--plan prices a saved plan as it was made: drop --stack/--set, or price the stack instead of the plan"
        )
    if args.stacks or args.compare_tiers:
        return _cost_view(args, out)
    if args.against and args.format == "csv":
        # A CSV holds one estimate's lines under one header; a difference has other columns. JSON carries both.
        raise PlanInputError(
            "--against compares two estimates, which a CSV of cost lines cannot hold: use --format json (its `diff`"
            " section), markdown or table with --against, or CSV without it"
        )
    root = args.project_dir or find_project_root()
    # The baseline first: a missing or malformed --against file is bad input, reported before minutes of planning.
    baseline = plan_of(args.against, root) if args.against and is_plan_file_spec(args.against) else None
    if args.against and baseline is None:
        check_stack_exists(args.against, root)
    stack = args.stack or DEFAULT_STACK
    plan = read_plan_file(args.plan) if args.plan else plan_of(stack, root, tuple(args.overrides))[0]
    estimate = estimate_of(plan, root, args.usage)
    change = None
    if args.against:
        baseline_plan, label = baseline or plan_of(args.against, root)
        change = diff(estimate_of(baseline_plan, root, args.usage), estimate, label)
    if args.format == "json":
        out.print(render.to_json(estimate, change), end="", markup=False, highlight=False)
    elif args.format == "csv":
        out.print(render.to_csv(estimate), end="", markup=False, highlight=False)
    elif args.format == "markdown":
        out.print(render.to_markdown(estimate, change), end="", markup=False, highlight=False)
    else:
        render.print_table(estimate, out, change)
    status = estimate.budget_status
    if status is BudgetStatus.OVER:
        assert estimate.budget is not None
        err.print(
            f"error: the estimate, {render.usd(estimate.total)} a month, exceeds stack {estimate.stack}'s budget of "
            f"{render.usd(estimate.budget)} (config key monthlyBudgetUsd). Lower the cost, or raise the budget: "
            f"pulumi config set monthlyBudgetUsd <usd> --stack {estimate.stack}",
            markup=False,
        )
        return EXIT_OVER_BUDGET
    if status is BudgetStatus.UNKNOWN:
        assert estimate.budget is not None
        items = "; ".join(f"{u.resource} ({u.type}): {u.reason}" for u in estimate.unpriced_baseline)
        err.print(
            f"error: stack {estimate.stack}'s budget of {render.usd(estimate.budget)} (monthlyBudgetUsd) cannot be "
            f"checked: the priced lines come to {render.usd(estimate.total)} a month, but these baseline items are "
            f"unpriced: {items}. Add their prices to infra/cost/prices.yaml (or a pricer), or change the plan.",
            markup=False,
        )
        return EXIT_BUDGET_UNCHECKABLE
    return 0


def _cost_view(args: argparse.Namespace, out: Console) -> int:
    """`cost --stacks` and `cost --compare-tiers`: views for finance, which print and exit 0 (the budget guard is
    `cost --stack`'s)."""
    import datetime as dt

    from infra.cost import views
    from infra.cost.finance import stacks_view
    from infra.cost.price_table import load_price_table
    from infra.cost.stacks import check_stack_exists
    from infra.plan.document import build_plan
    from infra.plan.project_files import PlanInputError, find_project_root, read_project

    if args.plan or args.against or args.usage:
        raise PlanInputError("--stacks and --compare-tiers price stacks as committed: drop --plan, --against, --usage")
    root = args.project_dir or find_project_root()
    if args.compare_tiers:
        stack = args.stack or DEFAULT_STACK
        check_stack_exists(stack, root)
        columns = views.compare_tiers(stack, tuple(args.overrides), root)
        if args.format == "json":
            out.print(views.to_json(views.compare_record(stack, columns)), end="", markup=False, highlight=False)
        elif args.format == "csv":
            out.print(views.compare_csv(columns), end="", markup=False, highlight=False)
        else:
            views.print_compare(stack, columns, out, markdown=args.format == "markdown")
        return 0
    if args.stack:
        raise PlanInputError("--stacks names the stacks itself: drop --stack")
    committed = read_project(root).stacks()
    names = committed if args.stacks.strip() == "all" else [n.strip() for n in args.stacks.split(",") if n.strip()]
    for name in names:
        check_stack_exists(name, root)
    plans = [build_plan(name, tuple(args.overrides), root) for name in dict.fromkeys(names)]
    rows = stacks_view(plans, root, load_price_table(), dt.date.today())
    if args.format == "json":
        out.print(views.to_json(views.stacks_record(rows)), end="", markup=False, highlight=False)
    elif args.format == "csv":
        out.print(views.stacks_csv(rows), end="", markup=False, highlight=False)
    else:
        views.print_stacks(rows, out, markdown=args.format == "markdown")
    return 0


def _check(args: argparse.Namespace, out: Console) -> int:
    from infra.cost.stacks import plan_of, read_plan_file
    from infra.plan.project_files import PlanInputError, find_project_root
    from infra.policy import render
    from infra.policy.engine import MalformedPlan, check_plan
    from infra.policy.registry import RULES

    if args.list_rules:
        render.print_rules(RULES, out)
        return 0
    if args.plan and (args.stack or args.overrides):
        raise PlanInputError("--plan checks a saved plan as it was made: drop --stack/--set, or check the stack")
    root = args.project_dir or find_project_root()
    plan = (
        read_plan_file(args.plan) if args.plan else plan_of(args.stack or DEFAULT_STACK, root, tuple(args.overrides))[0]
    )
    try:
        report = check_plan(plan)
    except MalformedPlan as error:
        raise PlanInputError(f"not a plan written by `plan --json`: {error}") from None
    if args.format == "json":
        out.print(render.to_json(report), end="", markup=False, highlight=False)
    else:
        render.print_report(report, out)
    return 0 if report.passed else EXIT_POLICY_VIOLATION


def _close_engine_event_loops() -> None:
    """The mock monitor answers from executor threads, each with an event loop that nothing closes. Left to the
    garbage collector, a loop may be finalized after its own self-pipe socket and print a spurious "Invalid
    file descriptor" traceback. Close every such loop explicitly while its sockets are still open."""
    import asyncio
    import gc

    for obj in gc.get_objects():
        if isinstance(obj, asyncio.BaseEventLoop) and not obj.is_running() and not obj.is_closed():
            obj.close()
    asyncio.set_event_loop(None)


def run(argv: list[str] | None = None) -> int:
    """The CLI, callable in-process (tests): returns the exit code."""
    from infra.ci.image_scan import ImageScanError
    from infra.cost.price_table import PriceTableError
    from infra.cost.usage import UsageFileError
    from infra.plan.engine import config_error_or_none
    from infra.plan.project_files import PlanInputError

    args = _parser().parse_args(argv)
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    warnings = _WarningPrinter(err)
    logging.getLogger("infra").addHandler(warnings)
    try:
        if args.command == "cost":
            return _cost(args, out, err)
        if args.command == "check":
            return _check(args, out)
        if args.command == "ci":
            from infra.ci.commands import run_ci

            return run_ci(args, out, err)
        if args.command == "verify":
            from infra.verify.command import run_verify

            return run_verify(args, out, err)
        return _plan(args, out)
    except (PlanInputError, UsageFileError, PriceTableError, ImageScanError) as error:
        err.print("[bold red]error:[/] ", end="")
        err.print(str(error), markup=False)
        return EXIT_INPUT_ERROR
    except Exception as error:
        run_error = config_error_or_none(error)
        if run_error is None:
            raise
        # A RunError is the program's own clear message (invalid config): no traceback, as under `pulumi up`.
        err.print("[bold red]error:[/] ", end="")
        err.print(str(run_error), markup=False)
        return EXIT_INPUT_ERROR
    finally:
        logging.getLogger("infra").removeHandler(warnings)


class _WarningPrinter(logging.Handler):
    """Prints each distinct warning of the config and the plan once to stderr (the plan checks the config before
    the engine starts, and the program checks it again inside)."""

    def __init__(self, err: Console) -> None:
        super().__init__(level=logging.WARNING)
        self._err = err
        self._seen: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message in self._seen:
            return
        self._seen.add(message)
        self._err.print("[bold yellow]warning:[/] ", end="")
        self._err.print(message, markup=False)


def main(argv: list[str] | None = None) -> int:
    """The console script: runs the CLI, then releases the engine's event loops before the process ends."""
    try:
        return run(argv)
    finally:
        _close_engine_event_loops()


if __name__ == "__main__":
    sys.exit(main())
