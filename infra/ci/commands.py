"""`python -m infra.cli ci ...`: the steps of .github/workflows as commands, so they run the same locally.

ci stacks        the committed stacks (JSON for a workflow matrix, or one per line)
ci plans         plan every committed stack (and each tier no stack runs) into a folder; every plan runs
ci cost-comment  the pull request's cost comment (Markdown) from the base's and the head's plan folders
ci image-scan    the ECR scan gate of a pushed image, by digest
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

EXIT_FAILED = 1
EXIT_INPUT_ERROR = 2


def add_ci_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ci = commands.add_parser(
        "ci",
        help="what the CI workflows run: stack discovery, every plan, the PR cost comment, the image scan gate",
        description=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    steps = ci.add_subparsers(dest="ci_command", required=True)

    stacks = steps.add_parser("stacks", help="the committed stacks (Pulumi.<stack>.yaml files)")
    stacks.add_argument("--json", action="store_true", help="a JSON array (for a workflow's matrix)")
    stacks.add_argument("--project-dir", type=Path, help="folder with Pulumi.yaml (default: found upwards)")

    plans = steps.add_parser(
        "plans",
        help="plan every committed stack into a folder (exit 1 naming each plan that failed, after all ran)",
        description="Plan every committed stack, and with --every-tier one variant per tier no stack runs (the "
        "first stack with --set tier=X), each as <key>.json in --out, with index.json saying which failed. Each "
        "plan runs with the project's own code from --project-dir (a checkout of another commit plans with its "
        "code). Exits 1 after all ran when any failed.",
    )
    plans.add_argument("--out", type=Path, required=True, metavar="DIR", help="where the plans go")
    plans.add_argument("--every-tier", action="store_true", help="add a variant for each tier no stack runs")
    plans.add_argument("--project-dir", type=Path, help="folder with Pulumi.yaml (default: found upwards)")

    comment = steps.add_parser(
        "cost-comment",
        help="the pull request's cost comment: per stack, per resource, unpriced items, budget verdict",
        description="Compare the plans of the base (--base, written by `ci plans`) with the head's (--head), "
        "priced with this checkout's price table and usage files, and write the comment as Markdown. Exits 3 "
        "when a stack is over its monthlyBudgetUsd, 4 when a budget cannot be checked, 2 when a stack of the head "
        "could not be planned (the comment is written in every case).",
    )
    comment.add_argument("--base", type=Path, required=True, metavar="DIR", help="the base commit's plans")
    comment.add_argument("--head", type=Path, required=True, metavar="DIR", help="the head's plans")
    comment.add_argument("--out", type=Path, metavar="FILE", help="write the Markdown here (default: stdout)")
    comment.add_argument("--base-label", default="base", help="how the comment names the base (a commit)")
    comment.add_argument("--head-label", default="head", help="how the comment names the head (a commit)")
    comment.add_argument("--project-dir", type=Path, help="folder with Pulumi.yaml (default: found upwards)")

    scan = steps.add_parser(
        "image-scan",
        help="fail when ECR's scan of an image (every platform of a multi-arch index) finds a severe vulnerability",
        description="Wait for ECR's scan of each platform image of --image (pushed with scan on push), then exit "
        "1 if any has a finding at or above --fail-on, or a scan failed or never completed; 2 on bad input.",
    )
    scan.add_argument("--image", required=True, help="<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:...")
    scan.add_argument("--fail-on", choices=("CRITICAL", "HIGH", "MEDIUM", "LOW"), default="HIGH")
    scan.add_argument("--wait", type=float, default=600, metavar="SECONDS", help="how long to wait for each scan")


def run_ci(args: argparse.Namespace, out: Console, err: Console) -> int:
    from infra.plan.project_files import find_project_root

    root = args.project_dir if getattr(args, "project_dir", None) else None
    if args.ci_command == "stacks":
        return _stacks(root or find_project_root(), args.json, out)
    if args.ci_command == "plans":
        return _plans(root or find_project_root(), args.out, args.every_tier, out, err)
    if args.ci_command == "cost-comment":
        return _cost_comment(args, root or find_project_root(), out)
    return _image_scan(args, out, err)


def _stacks(root: Path, as_json: bool, out: Console) -> int:
    from infra.ci.stacks import committed_stacks

    stacks = committed_stacks(root)
    text = json.dumps(stacks) if as_json else "\n".join(stacks)
    out.print(text, markup=False, highlight=False)
    return 0


def _plans(root: Path, out_dir: Path, every_tier: bool, out: Console, err: Console) -> int:
    from infra.ci.stacks import plan_all, plan_targets

    results = plan_all(root.resolve(), out_dir, plan_targets(root, every_tier=every_tier))
    for result in results:
        if result.ok:
            out.print(f"ok     {result.target.key}: {out_dir / str(result.plan_file)}", markup=False)
        else:
            err.print(f"FAILED {result.target.key}: {result.error}", markup=False)
    failed = [r.target.key for r in results if not r.ok]
    if failed:
        err.print(f"error: {len(failed)} of {len(results)} plans failed: {', '.join(failed)}", markup=False)
        return EXIT_FAILED
    return 0


def _cost_comment(args: argparse.Namespace, root: Path, out: Console) -> int:
    from infra.ci.cost_comment import compare, exit_code, render_markdown

    comment = compare(args.base, args.head, root, args.base_label, args.head_label)
    markdown = render_markdown(comment)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(markdown, encoding="utf-8")
        out.print(f"cost comment written to {args.out}", markup=False)
    else:
        out.print(markdown, end="", markup=False, highlight=False)
    return exit_code(comment)


def _image_scan(args: argparse.Namespace, out: Console, err: Console) -> int:
    import boto3

    from infra.ci.image_scan import EcrImage, GateOptions, ImageScanError, gate, passed, report_lines

    try:
        image = EcrImage.parse(args.image)
        ecr = boto3.Session(region_name=image.region).client("ecr")
        scans = gate(ecr, image, GateOptions(threshold=args.fail_on, wait_seconds=args.wait))
    except ImageScanError as error:
        err.print(f"error: {error}", markup=False)
        return EXIT_INPUT_ERROR
    for line in report_lines(scans, args.fail_on):
        out.print(line, markup=False, highlight=False)
    return 0 if passed(scans, args.fail_on) else EXIT_FAILED
