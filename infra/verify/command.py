"""`python -m infra.cli verify --stack S [--outputs FILE] [--ca-bundle FILE] [--wait SECONDS]`: exit 0 when every
check passes, 1 naming each check that failed, 2 on bad input (unreadable outputs, no Pulumi CLI)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

EXIT_VERIFY_FAILED = 1


def add_verify_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify = commands.add_parser(
        "verify",
        help="check a deployed stack: /api/health, target health, minimum capacity, no alarm firing (exit 1)",
        description="Check a deployed stack from its outputs (pulumi stack output --json, or --outputs FILE): "
        "GET <url>/api/health answers 200 over verified HTTPS (plain HTTP only for a development stack without a "
        "domain, on the load balancer's name), every target in targetGroupName is healthy, the Auto Scaling group "
        "(autoScalingGroupName; tier B: appMinReplicas healthy pods in the target group) runs at least its minimum, "
        "and no CloudWatch alarm tagged with the stack is in ALARM. Uses the caller's AWS credentials (read-only "
        "calls). Exits 1 naming each failed check, 2 on bad input.",
    )
    verify.add_argument("--stack", required=True, help="the stack to check (its outputs, its tags)")
    verify.add_argument(
        "--outputs",
        type=Path,
        metavar="FILE",
        help="the stack's outputs as `pulumi stack output --json` prints them (default: run that command)",
    )
    verify.add_argument(
        "--ca-bundle",
        type=Path,
        metavar="FILE",
        help="PEM file of the CA certificates to trust for the URL (default: the system's trust store)",
    )
    verify.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="repeat failed checks for up to this long before failing (targets settle after a deploy)",
    )
    verify.add_argument("--project-dir", type=Path, help="folder with Pulumi.yaml (default: found upwards)")


def run_verify(args: argparse.Namespace, out: Console, err: Console) -> int:
    from infra.plan.project_files import PlanInputError, find_project_root, read_project
    from infra.verify.outputs import pulumi_stack_outputs, read_outputs_file
    from infra.verify.result import CheckResult
    from infra.verify.run import AwsClients, VerifyOptions, verify

    root = args.project_dir or find_project_root()
    if args.ca_bundle is not None and not args.ca_bundle.is_file():
        raise PlanInputError(f"--ca-bundle {args.ca_bundle}: no such file")
    if args.wait < 0:
        raise PlanInputError(f"--wait {args.wait:g}: must be 0 or more seconds")
    outputs = read_outputs_file(args.outputs) if args.outputs else pulumi_stack_outputs(args.stack, root)
    region = outputs.get("region")
    if not isinstance(region, str) or not region:
        raise PlanInputError(f"stack {args.stack}'s outputs have no `region`: are they the outputs of this program?")
    project = read_project(root).name

    def on_retry(results: list[CheckResult]) -> None:
        failing = ", ".join(r.name for r in results if not r.ok)
        err.print(f"verify: not yet ({failing}); checking again", markup=False)

    results = verify(
        outputs,
        project,
        args.stack,
        AwsClients.for_region(region),
        VerifyOptions(ca_bundle=args.ca_bundle, wait_seconds=args.wait),
        on_retry=on_retry,
    )
    for result in results:
        out.print(f"{'ok  ' if result.ok else 'FAIL'} {result.name:<9} {result.detail}", markup=False, highlight=False)
    failed = [r.name for r in results if not r.ok]
    if failed:
        err.print(f"verify: stack {args.stack} FAILED: {', '.join(failed)}", markup=False)
        return EXIT_VERIFY_FAILED
    out.print(f"verify: stack {args.stack}: every check passed", markup=False)
    return 0
