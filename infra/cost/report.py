"""docs/costs.md, generated from the code: the three tiers side by side in the seed's layout, every line with its
source, what the seed's tables left out, a Mermaid chart by category, and what it would take to meet each tier's
target. `python -m infra.cost.report --write` (or `make cost-docs`) rewrites it; `--check` fails when the
committed file differs from what the code generates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from infra.cost.model import Category, Estimate, Line
from infra.cost.price_table import PriceTable, load_price_table
from infra.cost.render import cents, quantity, unit_price, usd
from infra.cost.stacks import estimate_of
from infra.plan.document import Plan, build_plan
from infra.plan.engine import config_error_or_none

REGENERATE = "make cost-docs"
REPORT_PATH = Path("docs") / "costs.md"


@dataclass(frozen=True)
class TierSpec:
    tier: str
    label: str
    stack: str
    overrides: tuple[str, ...]
    target: Decimal
    seed_total: Decimal
    seed_rows: tuple[tuple[str, str, str], ...]
    """The seed's own table: (service, specs, monthly cost), verbatim."""
    seed_covers: tuple[str, ...]
    """Price keys (prefixes) of what the seed's rows paid for; everything else is what they left out."""


TIERS = (
    TierSpec(
        "A",
        "Tier A: AWS, 100K users (`prod`)",
        "prod",
        (),
        Decimal(1100),
        Decimal(1200),
        (
            ("MongoDB Atlas M30", "3-node replica", "$570"),
            ("ElastiCache Redis", "cache.t3.medium", "$50"),
            ("4x EC2 c5.xlarge", "API servers", "$480"),
            ("Application LB", "", "$20"),
            ("S3 + CloudFront", "1TB storage", "$75"),
        ),
        ("ec2.instance.", "atlas.aws.", "elasticache.", "elb.application.hour", "s3.standard.storage", "cloudfront."),
    ),
    TierSpec(
        "B",
        "Tier B: Kubernetes (`prod --set tier=B`)",
        "prod",
        ("tier=B",),
        Decimal(1400),
        Decimal(1400),
        (
            ("GKE/EKS Cluster", "6 n2-standard-4 nodes", "$600"),
            ("MongoDB Atlas M30", "3-node replica", "$570"),
            ("Memorystore Redis", "5GB", "$150"),
            ("Cloud Storage + CDN", "1TB", "$75"),
        ),
        ("ec2.instance.", "atlas.aws.", "elasticache.", "s3.standard.storage", "cloudfront."),
    ),
    TierSpec(
        "C",
        "Tier C: budget, 10-20K users (`dev`)",
        "dev",
        (),
        Decimal(180),
        Decimal(180),
        (
            ("MongoDB Atlas M10", "1-node", "$57"),
            ("Redis Cloud", "Free tier", "$0"),
            ("2x EC2 t3.large", "API servers", "$120"),
            ("S3", "100GB", "$3"),
        ),
        ("ec2.instance.", "atlas.aws.", "s3.standard.storage"),
    ),
)


@dataclass(frozen=True)
class Lever:
    """A config change that lowers a tier's cost, and what it gives up."""

    overrides: tuple[str, ...]
    trade_off: str
    without: Category | None = None
    """A category the change removes from the bill entirely (an external service priced at $0)."""


LEVERS: dict[str, tuple[Lever, ...]] = {
    "A": (
        Lever(
            ("cacheNodeType=cache.t4g.medium",), "3 GiB burstable nodes instead of 6.4 GiB; replica and failover kept"
        ),
        Lever(("computeInstanceType=c6g.xlarge",), "Graviton2 instead of Graviton3: same 4 vCPU / 8 GiB, ~25% slower"),
        Lever(("cdnPriceClass=PriceClass_100",), "viewers in Asia Pacific served from European edges (more latency)"),
        Lever(("flowLogRetentionDays=90",), "VPC flow logs kept 90 days instead of a year"),
        Lever(("azCount=2",), "two AZs instead of three (NAT per AZ kept)"),
    ),
    "B": (
        Lever(("cacheNodeType=cache.t4g.medium",), "3 GiB burstable nodes: below the seed's 5 GB"),
        Lever(("computeInstanceType=m6g.xlarge",), "Graviton2 nodes: same 4 vCPU / 16 GiB, ~25% slower"),
        Lever(("cdnPriceClass=PriceClass_100",), "viewers in Asia Pacific served from European edges (more latency)"),
        Lever(("flowLogRetentionDays=90",), "VPC flow logs kept 90 days instead of a year"),
    ),
    "C": (
        Lever(("cdnEnabled=true",), "media through CloudFront: its 1 TB free a month replaces S3's internet egress"),
        Lever(
            (),
            "`cacheMode=external` with a free external Redis, the seed's 'Redis Cloud free tier' (capped near 100 "
            "operations a second: not a production cache)",
            without=Category.CACHE,
        ),
        Lever(("computeInstanceType=t4g.medium",), "2 vCPU / 4 GiB instead of 8 GiB"),
        Lever(("flowLogRetentionDays=7",), "VPC flow logs kept a week"),
    ),
}

MODELED_NOTE = (
    "Tier B's EKS cluster, node group and load balancer are not in the program yet (issue: EKS compute); until "
    "they are, the estimate prices a modeled control plane, node group (computeInstanceType x computeDesiredSize, "
    "EKS's default 20 GB disk) and internet-facing ALB from the stack's config, marked *modeled*."
)


def _modeled_eks(plan: Plan) -> Plan:
    """Tier B without its EKS resources: add the ones the architecture fixes, from the plan's own config."""
    if plan.tier != "B" or any(r["type"] == "aws:eks/cluster:Cluster" for r in plan.resources):
        return plan
    compute = plan.config.get("compute", {})
    zones = int(plan.config.get("network", {}).get("azCount", 3))
    stack_urn = f"urn:pulumi:{plan.stack}::{plan.project}::modeled"

    def resource(type_token: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"urn": f"{stack_urn}::{name}", "type": type_token, "name": name, "parent": None, "custom": True,
                "provider": "", "inputs": inputs, "options": {}}  # fmt: skip

    modeled = [
        resource("aws:eks/cluster:Cluster", "modeled-eks-cluster", {}),
        resource(
            "aws:eks/nodeGroup:NodeGroup",
            "modeled-eks-nodes",
            {
                "instanceTypes": [compute.get("computeInstanceType")],
                "scalingConfig": {"desiredSize": compute.get("computeDesiredSize")},
            },
        ),
        resource(
            "aws:lb/loadBalancer:LoadBalancer",
            "modeled-eks-alb",
            {"loadBalancerType": "application", "subnets": [f"public-{i}" for i in range(zones)]},
        ),
    ]
    return Plan(plan.project, plan.stack, plan.tier, [*plan.resources, *modeled], plan.outputs, plan.config)


@dataclass(frozen=True)
class TierResult:
    spec: TierSpec
    estimate: Estimate
    modeled: bool


def _estimate(spec: TierSpec, root: Path, prices: PriceTable, today: dt.date, extra: tuple[str, ...] = ()) -> Estimate:
    plan = _modeled_eks(build_plan(spec.stack, (*spec.overrides, *extra), root))
    return estimate_of(plan, root, None, prices, today)


def _specs(lines: list[Line]) -> str:
    """What a group of lines buys: its baseline components (the resources), else its usage components."""
    chosen = [line for line in lines if line.kind.value == "baseline"] or lines
    names = (line.component.split(" (after ")[0] for line in sorted(chosen, key=lambda item: -item.monthly))
    return "; ".join(f"{n} x {c}" if n > 1 else c for c, n in Counter(names).items())


def _category_rows(estimate: Estimate) -> dict[Category, tuple[str, Decimal]]:
    rows = {}
    for category, amount in estimate.by_category().items():
        lines = [line for line in estimate.lines if line.category is category]
        rows[category] = (_specs(lines), amount)
    return rows


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _side_by_side(results: list[TierResult]) -> list[str]:
    header = "| Service | " + " | ".join(f"Tier {r.spec.tier}: specs | Tier {r.spec.tier}: monthly" for r in results)
    out = [header + " |", "|---|" + "---|---:|" * len(results)]
    per_tier = [_category_rows(r.estimate) for r in results]
    for category in Category:
        if not any(category in rows for rows in per_tier):
            continue
        cells = []
        for rows in per_tier:
            specs, amount = rows.get(category, ("", None))
            cells.append(f"{_md(specs)} | {usd(amount) if amount is not None else '-'}")
        out.append(f"| {category.value} | " + " | ".join(cells) + " |")
    totals = " | ".join(f" | **{usd(r.estimate.total)}**" for r in results)
    out.append(f"| **Total** | {totals} |")
    out.append("| Seed's figure | " + " | ".join(f" | ~{usd(r.spec.seed_total)}" for r in results) + " |")
    out.append("| Target | " + " | ".join(f" | at most {usd(r.spec.target)}" for r in results) + " |")
    return out


def _tier_detail(result: TierResult) -> list[str]:
    estimate = result.estimate
    out = [
        f"### {result.spec.label}",
        "",
        "| Service | Specs | Monthly Cost | Sources |",
        "|---------|-------|--------------|---------|",
    ]
    for category, (specs, amount) in _category_rows(estimate).items():
        sources = sorted({line.source for line in estimate.lines if line.category is category})
        out.append(f"| {category.value} | {_md(specs)} | {usd(amount)} | {', '.join(sources)} |")
    out.append(f"| **Total** | baseline {usd(estimate.baseline)} + usage-based {usd(estimate.usage)} | "
               f"**{usd(estimate.total)}/mo** | |")  # fmt: skip
    out += ["", "<details><summary>Every line, with its unit price and source</summary>", ""]
    out += [
        "| Resource | Component | Quantity | Unit price | Monthly | Kind | Source |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for line in estimate.lines:
        source = f"[{line.source}]({line.source_url})" if line.source_url else line.source
        out.append(
            f"| `{line.resource}` | {_md(line.component)} | {quantity(line.quantity)} {line.unit} | "
            f"{unit_price(line.unit_price)} | {usd(line.monthly)} | {line.kind.value} | {source} |"
        )
    out += ["", "</details>", ""]
    if estimate.unpriced:
        out += ["Not priced (not in the total):", ""]
        out += [f"- `{u.resource}`: {_md(u.reason)}" for u in estimate.unpriced]
        out.append("")
    if result.modeled:
        out += [f"*Modeled*: {MODELED_NOTE}", ""]
    return out


def _left_out(result: TierResult) -> list[str]:
    spec, estimate = result.spec, result.estimate
    left = [line for line in estimate.lines if not line.price_key.startswith(spec.seed_covers)]
    by_category: dict[Category, list[Line]] = {}
    for line in left:
        by_category.setdefault(line.category, []).append(line)
    total = sum((line.monthly for line in left), Decimal(0))
    out = [f"**Tier {spec.tier}**: the seed's rows left out {usd(total)} a month:", ""]
    for category, lines in by_category.items():
        amount = sum((line.monthly for line in lines), Decimal(0))
        out.append(f"- {category.value}, {usd(amount)}: {_md(_specs(lines))}")
    return [*out, ""]


def _chart(results: list[TierResult]) -> list[str]:
    out = []
    for result in results:
        out += ["```mermaid", f"pie showData title Tier {result.spec.tier}: {usd(result.estimate.total)} a month"]
        for category, amount in result.estimate.by_category().items():
            if cents(amount) > 0:
                out.append(f'    "{category.value}" : {cents(amount)}')
        out += ["```", ""]
    return out


def _levers(result: TierResult, root: Path, prices: PriceTable, today: dt.date) -> list[str]:
    spec, total = result.spec, result.estimate.total
    if total <= spec.target:
        return [f"**Tier {spec.tier}** meets its target: {usd(total)} <= {usd(spec.target)}.", ""]
    out = [
        f"**Tier {spec.tier}** is {usd(total - spec.target)} over its target ({usd(total)} against "
        f"{usd(spec.target)}). Each lever below is the estimate re-run with one config change:",
        "",
        "| Config change | Monthly | Saves | Trade-off |",
        "|---|---:|---:|---|",
    ]
    allowed: list[str] = []
    dropped = Decimal(0)
    for lever in LEVERS[spec.tier]:
        if lever.without is not None:
            saved = result.estimate.by_category().get(lever.without, Decimal(0))
            dropped += saved
            out.append(
                f"| {_md(lever.trade_off)} | {usd(total - saved)} | {usd(saved)} | no {lever.without.value} line |"
            )
            continue
        change = ", ".join(f"`{o}`" for o in lever.overrides)
        try:
            lowered = _estimate(spec, root, prices, today, lever.overrides).total
        except Exception as error:
            refused = config_error_or_none(error)
            if refused is None:
                raise
            reason = str(refused).splitlines()[-1].strip().lstrip("- ")
            out.append(f"| {change} | - | - | refused by the config rules: {_md(reason)} |")
            continue
        allowed += lever.overrides
        out.append(f"| {change} | {usd(lowered)} | {usd(total - lowered)} | {_md(lever.trade_off)} |")
    if allowed or dropped:
        combined = (_estimate(spec, root, prices, today, tuple(allowed)).total if allowed else total) - dropped
        verdict = "meets" if combined <= spec.target else f"is still {usd(combined - spec.target)} over"
        out += ["", f"All the accepted levers together: {usd(combined)} a month, which {verdict} the target."]
    out += [
        "",
        "Beyond these, only commitments lower the bill without lowering the architecture: EC2 Savings Plans or "
        "reserved instances, ElastiCache reserved nodes, an Atlas annual commitment. Their rates are not in the "
        "price table (no sourced figure yet), so this report does not count them.",
        "",
    ]
    return out


def _sources(prices: PriceTable, today: dt.date) -> list[str]:
    out = ["| Source | Date | Prices | Older than " + f"{prices.max_age_days} days |", "|---|---|---:|---|"]
    counts = Counter(price.source.id for price in prices.prices.values())
    for source in prices.sources.values():
        old = (today - source.date).days > prices.max_age_days
        out.append(
            f"| [{_md(source.title)}]({source.url}) | {source.date.isoformat()} ({source.date_meaning}) | "
            f"{counts.get(source.id, 0)} | {'yes: re-read it' if old and counts.get(source.id) else ''} |"
        )
    return out


def render_report(root: Path, prices: PriceTable | None = None) -> str:
    prices = prices or load_price_table()
    # The report is dated by the price table's version, not the day it runs, so it changes only with the code.
    today = dt.date.fromisoformat(prices.version)
    results = []
    for spec in TIERS:
        plan = build_plan(spec.stack, spec.overrides, root)
        modeled = _modeled_eks(plan) is not plan
        results.append(TierResult(spec, _estimate(spec, root, prices, today), modeled))
    out = [
        "# What each tier costs a month",
        "",
        f"<!-- Generated by `{REGENERATE}` (python -m infra.cost.report --write) from the code, the price table and "
        "the usage defaults: do not edit by hand; a test fails when this file differs from what the code "
        "generates. -->",
        "",
        f"On-demand prices in {prices.region}, {prices.hours_per_month} hours a month, price table version "
        f"{prices.version} (`infra/cost/prices.yaml`, every price with its source and date). Usage-based items "
        "(data transfer, requests, stored GB, load balancer capacity units) follow each tier's documented "
        "assumptions in `infra/cost/usage/tier-*.yaml`; a stack overrides them in `usage/<stack>.yaml`. Amounts "
        "are exact `Decimal` sums rounded to the cent for display. Reproduce any column with "
        "`python -m infra.cli cost --stack prod` (or `--stack dev`, or `--stack prod --set tier=B`).",
        "",
        "## Totals against the targets",
        "",
        "| Tier | Stack | Monthly estimate | Baseline | Usage-based | Target | Met | Seed's figure |",
        "|---|---|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        e, s = r.estimate, r.spec
        met = "yes" if e.total <= s.target else f"no, {usd(e.total - s.target)} over"
        stack = s.stack + (" " + " ".join(f"--set {o}" for o in s.overrides) if s.overrides else "")
        out.append(
            f"| {s.tier}{' (modeled EKS)' if r.modeled else ''} | `{stack}` | **{usd(e.total)}** | "
            f"{usd(e.baseline)} | {usd(e.usage)} | {usd(s.target)} | {met} | ~{usd(s.seed_total)} |"
        )
    out += ["", "## The three tiers side by side (the seed's layout)", "", *_side_by_side(results), ""]
    out += ["## Cost by category", "", *_chart(results)]
    out += ["## Each tier, line by line", ""]
    for r in results:
        out += _tier_detail(r)
    out += [
        "## What the seed's tables left out",
        "",
        "The seed priced only the big rows below each option; at this table's prices, these are the costs its "
        "rows did not contain (lines whose price is not one of the seed's rows: compute instances, the Atlas "
        "cluster, the cache, the ALB's hours, S3 storage, CloudFront, as each option had them). Its own figures "
        "also carry no region, no date and no free allowance, 'Atlas M10 1-node' does not exist (every dedicated "
        "cluster is a 3-node replica set), 'Redis Cloud free tier' is capped far below production traffic, and "
        "'1TB' does not say stored or delivered (here: stored).",
        "",
    ]
    for r in results:
        out += ["| Service | Specs | Monthly Cost |", "|---------|-------|--------------|"]
        out += [f"| {a} | {b} | {c} |" for a, b, c in r.spec.seed_rows]
        out += [f"| **Total** | | **~{usd(r.spec.seed_total)}/mo** |", ""]
        out += _left_out(r)
    out += ["## What it would take to meet each target", ""]
    for r in results:
        out += _levers(r, root, prices, today)
    out += ["## Sources", "", *_sources(prices, today), ""]
    warnings = sorted({w for r in results for w in r.estimate.warnings})
    out += ["## Warnings from the estimator", "", *(f"- {_md(w)}" for w in warnings), ""]
    return "\n".join(out)


def _project_root() -> Path:
    from infra.plan.project_files import find_project_root

    return find_project_root()


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.cost.report", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help=f"rewrite {REPORT_PATH}")
    action.add_argument("--check", action="store_true", help=f"exit 1 when {REPORT_PATH} is not what the code makes")
    args = parser.parse_args(list(argv) if argv is not None else None)
    root = _project_root()
    text = render_report(root)
    path = root / REPORT_PATH
    if args.write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
        return 0
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        print(f"{path} is not what the code generates: run `{REGENERATE}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
