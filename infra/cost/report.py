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
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from infra.cost.model import Category, Estimate, Line
from infra.cost.price_table import PriceTable, load_price_table
from infra.cost.render import ROUNDING_NOTE, displayed_split, line_cents, quantity, reconciled, unit_price, usd
from infra.cost.stacks import estimate_of
from infra.plan.document import Plan, build_plan
from infra.plan.engine import config_error_or_none
from infra.plan.urns import engine_urn

REGENERATE = "make cost-docs"
REPORT_PATH = Path("docs") / "costs.md"


@dataclass(frozen=True)
class SeedCover:
    """What one of the seed's rows paid for: the lines whose price key starts with one of `prefixes`, up to
    `quantity` units of them in all (None: all of them). The rest of a line is what the seed left out."""

    prefixes: tuple[str, ...]
    quantity: Decimal | None = None
    what: str = ""
    """What the covered quantity is, for the text on what was left out ("one node")."""


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
    seed_covers: tuple[SeedCover, ...]
    """What the seed's rows paid for; everything else is what they left out."""


_FLEET = SeedCover(("ec2.instance.",))
_ATLAS = SeedCover(("atlas.aws.",))
_S3_STORAGE = SeedCover(("s3.standard.storage", "s3.standard-ia.storage"))
_CLOUDFRONT = SeedCover(("cloudfront.",))
# The seed priced one cache node (tier A's "cache.t3.medium $50" is 730 hours of one node; tier B's "Memorystore
# Redis 5GB" one instance): the replica the architecture adds for failover is what it left out.
_ONE_CACHE_NODE = SeedCover(("elasticache.redis.", "elasticache.valkey."), Decimal(730), "one node")

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
        (_FLEET, _ATLAS, _ONE_CACHE_NODE, SeedCover(("elb.application.hour",)), _S3_STORAGE, _CLOUDFRONT),
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
        (_FLEET, _ATLAS, _ONE_CACHE_NODE, _S3_STORAGE, _CLOUDFRONT),
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
        (_FLEET, _ATLAS, _S3_STORAGE),
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
        Lever(("logRetentionDays=90",), "logs (flow, access, app) kept 90 days instead of a year"),
        Lever(("azCount=2",), "two AZs instead of three (NAT per AZ kept)"),
    ),
    "B": (
        Lever(("cacheNodeType=cache.t4g.medium",), "3 GiB burstable nodes: below the seed's 5 GB"),
        Lever(("computeInstanceType=m6g.xlarge",), "Graviton2 nodes: same 4 vCPU / 16 GiB, ~25% slower"),
        Lever(("cdnPriceClass=PriceClass_100",), "viewers in Asia Pacific served from European edges (more latency)"),
        Lever(("logRetentionDays=90",), "logs (flow, access, app) kept 90 days instead of a year"),
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
        Lever(("logRetentionDays=7",), "logs (flow, access, app) kept a week"),
    ),
}

MODELED_PREFIX = "modeled-"
MODELED_NOTE = (
    "Tier B's EKS cluster, node group and load balancer are not in the program yet, so `cost` lists them as "
    "unpriced and its total is a lower bound. The *modeled* figure adds three resources to tier B's plan, built "
    "from the stack's own config: an EKS control plane, a managed node group of computeDesiredSize x "
    "computeInstanceType nodes with EKS's default 20 GB gp2 disk, and an internet-facing ALB in every AZ; they "
    "are priced by the same pricers, price table and tier B usage defaults as everything else (the ALB's "
    "capacity units and internet egress included)."
)


def _modeled_eks(plan: Plan) -> Plan:
    """Tier B with the EKS resources the architecture fixes and the program does not build yet, from the plan's
    own config; any other plan unchanged."""
    if plan.tier != "B" or any(r["type"] == "aws:eks/cluster:Cluster" for r in plan.resources):
        return plan
    compute = plan.config.get("compute", {})
    zones = int(plan.config.get("network", {}).get("azCount", 3))

    def resource(type_token: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        urn = engine_urn(plan.stack, plan.project, None, type_token, name)
        return {"urn": urn, "type": type_token, "name": name, "parent": None, "custom": True,
                "provider": "", "inputs": inputs, "options": {}}  # fmt: skip

    modeled = [
        resource("aws:eks/cluster:Cluster", f"{MODELED_PREFIX}eks-cluster", {}),
        resource(
            "aws:eks/nodeGroup:NodeGroup",
            f"{MODELED_PREFIX}eks-nodes",
            {
                "instanceTypes": [compute.get("computeInstanceType")],
                "scalingConfig": {"desiredSize": compute.get("computeDesiredSize")},
            },
        ),
        resource(
            "aws:lb/loadBalancer:LoadBalancer",
            f"{MODELED_PREFIX}eks-alb",
            {"loadBalancerType": "application", "subnets": [f"public-{i}" for i in range(zones)]},
        ),
    ]
    # Appended last, so they are priced last: the free allowances go to the plan's own resources first and every
    # line of the plan's estimate stays as `cost` prints it.
    return Plan(plan.project, plan.stack, plan.tier, [*plan.resources, *modeled], plan.outputs, plan.config)


@dataclass(frozen=True)
class TierResult:
    spec: TierSpec
    estimate: Estimate
    """What `cost` prints for the tier's stack: the reproducible figure."""
    modeled: Estimate | None = None
    """Tier B with its not-yet-built EKS resources modeled in; None for the tiers whose plan is complete."""

    @property
    def shown(self) -> Estimate:
        """The estimate the comparisons use: the modeled one where there is one (clearly labelled)."""
        return self.modeled or self.estimate

    @property
    def label(self) -> str:
        return f"Tier {self.spec.tier}" + (" (modeled EKS)" if self.modeled else "")

    @property
    def command(self) -> str:
        sets = "".join(f" --set {o}" for o in self.spec.overrides)
        return f"python -m infra.cli cost --stack {self.spec.stack}{sets}"


def _estimate(spec: TierSpec, root: Path, prices: PriceTable, today: dt.date, extra: tuple[str, ...] = ()) -> Estimate:
    """The tier's estimate with `extra` config changes, modeled where the plan lacks what the tier needs."""
    plan = _modeled_eks(build_plan(spec.stack, (*spec.overrides, *extra), root))
    return estimate_of(plan, root, None, prices, today)


def _result(spec: TierSpec, root: Path, prices: PriceTable, today: dt.date) -> TierResult:
    plan = build_plan(spec.stack, spec.overrides, root)
    printed = estimate_of(plan, root, None, prices, today)
    modeled_plan = _modeled_eks(plan)
    if modeled_plan is plan:
        return TierResult(spec, printed)
    modeled = estimate_of(modeled_plan, root, None, prices, today)
    added = sum((line.monthly for line in _modeled_lines(modeled)), Decimal(0))
    if modeled.total != printed.total + added:
        # The report says "modeled = what `cost` prints + the modeled lines": never print it when it is not so.
        raise AssertionError(f"tier {spec.tier}: modeled {modeled.total} != {printed.total} + modeled lines {added}")
    return TierResult(spec, printed, modeled)


def _modeled_lines(estimate: Estimate) -> list[Line]:
    return [line for line in estimate.lines if line.resource.startswith(MODELED_PREFIX)]


def _shown_lines(estimate: Estimate) -> list[tuple[Line, Decimal]]:
    """Each line with its displayed amount (the cents add up to the displayed total)."""
    return list(zip(estimate.lines, line_cents(estimate), strict=True))


def _specs(lines: list[tuple[Line, Decimal]]) -> str:
    """What a group of lines buys, every component (baseline and usage-based) with its amount, largest first."""
    groups: dict[str, list[Decimal]] = {}
    for line, shown in lines:
        name = line.component.split(" (after ")[0]
        name = f"{name} [modeled]" if line.resource.startswith(MODELED_PREFIX) else name
        groups.setdefault(name, []).append(shown)
    ordered = sorted(groups.items(), key=lambda item: -sum(item[1]))
    return "; ".join(f"{f'{len(v)} x ' if len(v) > 1 else ''}{name} {usd(sum(v, Decimal(0)))}" for name, v in ordered)


def _category_rows(estimate: Estimate) -> dict[Category, tuple[str, Decimal]]:
    shown = _shown_lines(estimate)
    rows = {}
    for category in estimate.by_category():
        lines = [(line, amount) for line, amount in shown if line.category is category]
        rows[category] = (_specs(lines), sum((amount for _, amount in lines), Decimal(0)))
    return rows


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _side_by_side(results: list[TierResult]) -> list[str]:
    header = "| Service | " + " | ".join(f"{r.label}: specs | {r.label}: monthly" for r in results)
    out = [header + " |", "|---|" + "---|---:|" * len(results)]
    per_tier = [_category_rows(r.shown) for r in results]
    for category in Category:
        if not any(category in rows for rows in per_tier):
            continue
        cells = []
        for rows in per_tier:
            specs, amount = rows.get(category, ("", None))
            cells.append(f"{_md(specs)} | {usd(amount) if amount is not None else '-'}")
        out.append(f"| {category.value} | " + " | ".join(cells) + " |")
    totals = " | ".join(f" | **{usd(displayed_split(r.shown)[0])}**" for r in results)
    out.append(f"| **Total** | {totals} |")
    out.append("| Seed's figure | " + " | ".join(f" | ~{usd(r.spec.seed_total)}" for r in results) + " |")
    out.append("| Target | " + " | ".join(f" | at most {usd(r.spec.target)}" for r in results) + " |")
    return out


def _unpriced_list(estimate: Estimate) -> list[str]:
    if not estimate.unpriced:
        return []
    out = ["Not priced (not in the total):", ""]
    out += [f"- `{u.resource}` ({u.kind.value}): {_md(u.reason)}" for u in estimate.unpriced]
    return [*out, ""]


def _tier_detail(result: TierResult) -> list[str]:
    """The tier's categories (modeled where the tier has a model), then every line exactly as `cost` prints it,
    what it leaves unpriced, and the modeled lines apart."""
    shown, printed = result.shown, result.estimate
    total, baseline, usage = displayed_split(shown)
    out = [
        f"### {result.spec.label}" + (" (modeled EKS)" if result.modeled else ""),
        "",
        "| Service | Specs | Monthly Cost | Sources |",
        "|---------|-------|--------------|---------|",
    ]
    for category, (specs, amount) in _category_rows(shown).items():
        sources = sorted({line.source for line in shown.lines if line.category is category})
        out.append(f"| {category.value} | {_md(specs)} | {usd(amount)} | {', '.join(sources)} |")
    out.append(f"| **Total** | baseline {usd(baseline)} + usage-based {usd(usage)} | **{usd(total)}/mo** | |")
    out += ["", f"<details><summary>Every line of `{result.command}`, with its unit price and source</summary>", ""]
    out += _line_table(_shown_lines(printed), link=True)
    out += ["", "</details>", ""]
    out += _unpriced_list(printed)
    if result.modeled:
        out += _modeled_section(result)
    return out


def _line_table(lines: list[tuple[Line, Decimal]], *, link: bool) -> list[str]:
    out = [
        "| Resource | Component | Quantity | Unit price | Monthly | Kind | Source |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for line, shown in lines:
        source = f"[{line.source}]({line.source_url})" if link and line.source_url else line.source
        out.append(
            f"| `{line.resource}` | {_md(line.component)} | {quantity(line.quantity)} {line.unit} | "
            f"{unit_price(line.unit_price)} | {usd(shown)} | {line.kind.value} | {source} |"
        )
    return out


def _modeled_section(result: TierResult) -> list[str]:
    assert result.modeled is not None
    printed_total, modeled_total = displayed_split(result.estimate)[0], displayed_split(result.modeled)[0]
    lines = _modeled_lines(result.modeled)
    # Rounded so that the printed total plus these lines is the modeled total, to the cent, as displayed.
    shown = reconciled([line.monthly for line in lines], modeled_total - printed_total)
    return [
        f"*Modeled*: {MODELED_NOTE}",
        "",
        f"The modeled figure, {usd(modeled_total)}, is the {usd(printed_total)} that `{result.command}` prints "
        f"plus these lines for the unpriced baseline items above ({usd(modeled_total - printed_total)} in all):",
        "",
        *_line_table(list(zip(lines, shown, strict=True)), link=False),
        "",
    ]


def _left_out_lines(spec: TierSpec, estimate: Estimate) -> list[tuple[Line, Decimal, str]]:
    """(line, amount the seed left out, why) for every line the seed's rows did not fully pay for."""
    remaining = {index: cover.quantity for index, cover in enumerate(spec.seed_covers)}
    left = []
    for line in estimate.lines:
        index = next((i for i, c in enumerate(spec.seed_covers) if line.price_key.startswith(c.prefixes)), None)
        if index is None:
            left.append((line, line.monthly, ""))
            continue
        cover, budget = spec.seed_covers[index], remaining[index]
        if budget is None:
            continue
        covered = min(budget, line.quantity)
        remaining[index] = budget - covered
        if covered < line.quantity:
            beyond = line.quantity - covered
            why = f"{quantity(beyond)} of {quantity(line.quantity)} {line.unit} beyond the seed's {cover.what}"
            left.append((line, beyond * line.unit_price, why))
    return left


def _left_out(result: TierResult) -> list[str]:
    spec, estimate = result.spec, result.shown
    left = _left_out_lines(spec, estimate)
    shown = reconciled([amount for _, amount, _ in left])
    by_category: dict[Category, list[tuple[Line, Decimal]]] = {}
    why_of: dict[int, str] = {}
    for (line, _, why), amount in zip(left, shown, strict=True):
        by_category.setdefault(line.category, []).append((line, amount))
        if why:
            why_of[id(line)] = why
    out = [f"**{result.label}**: the seed's rows left out {usd(sum(shown, Decimal(0)))} a month:", ""]
    for category in Category:
        items = by_category.get(category)
        if not items:
            continue
        amount = sum((a for _, a in items), Decimal(0))
        relabelled = [(_with_why(line, why_of.get(id(line))), a) for line, a in items]
        out.append(f"- {category.value}, {usd(amount)}: {_md(_specs(relabelled))}")
    return [*out, ""]


def _with_why(line: Line, why: str | None) -> Line:
    """The line, its component naming the part the seed paid for when it paid for part of it."""
    if not why:
        return line
    return replace(line, component=f"{line.component.split(' (after ')[0]} ({why})")


def _chart(results: list[TierResult]) -> list[str]:
    out = []
    for result in results:
        total = displayed_split(result.shown)[0]
        out += ["```mermaid", f"pie showData title {result.label}: {usd(total)} a month"]
        for category, (_, amount) in _category_rows(result.shown).items():
            if amount > 0:
                out.append(f'    "{category.value}" : {amount}')
        out += ["```", ""]
    return out


def _levers(result: TierResult, root: Path, prices: PriceTable, today: dt.date) -> list[str]:
    spec, total = result.spec, result.shown.total
    if total <= spec.target:
        return [f"**{result.label}** meets its target: {usd(total)} <= {usd(spec.target)}.", ""]
    out = [
        f"**{result.label}** is {usd(total - spec.target)} over its target ({usd(total)} against "
        f"{usd(spec.target)}). Each lever below is the estimate re-run with one config change:",
        "",
        "| Config change | Monthly | Saves | Trade-off |",
        "|---|---:|---:|---|",
    ]
    allowed: list[str] = []
    dropped = Decimal(0)
    for lever in LEVERS[spec.tier]:
        if lever.without is not None:
            saved = result.shown.by_category().get(lever.without, Decimal(0))
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
    out = [
        f"| Source | Figures dated | Read | Prices | Confidence | Older than {prices.max_age_days} days |",
        "|---|---|---|---:|---|---|",
    ]
    counts = Counter(price.source.id for price in prices.prices.values())
    derived = Counter(price.derived_by.id for price in prices.prices.values() if price.derived_by)
    for source in prices.sources.values():
        old = (today - source.date).days > prices.max_age_days
        used = counts.get(source.id, 0)
        count = f"{used}" + (f" (+{derived[source.id]} derived from it)" if derived.get(source.id) else "")
        read = source.read.isoformat() if source.read else ""
        out.append(
            f"| [{_md(source.title)}]({source.url}) | {source.date.isoformat()} ({source.date_meaning}) | {read} | "
            f"{count} | {_md(source.confidence) or '-'} | "
            f"{'yes: re-read it' if old and used else ''} |"
        )
    return out


def _totals(results: list[TierResult]) -> list[str]:
    out = [
        "| Tier | Command (prints this row) | Monthly estimate | Baseline | Usage-based | Not in the total | Target | "
        "Met | Seed's figure |",
        "|---|---|---:|---:|---:|---|---:|---|---:|",
    ]
    for r in results:
        for estimate, label, command in _total_rows(r):
            total, baseline, usage = displayed_split(estimate)
            gaps = estimate.unpriced_baseline
            missing = ", ".join(dict.fromkeys(u.resource.removeprefix("(not in the plan) ") for u in gaps))
            if gaps:
                figure, met = f"**at least {usd(total)}**", "unknown: baseline items unpriced"
            else:
                figure = f"**{usd(total)}**"
                met = "yes" if total <= r.spec.target else f"no, {usd(total - r.spec.target)} over"
            usage_gaps = len(estimate.unpriced) - len(gaps)
            not_in = "; ".join(
                part
                for part in (
                    f"baseline: {missing}" if missing else "",
                    f"{usage_gaps} usage-based item(s)" if usage_gaps else "",
                )
                if part
            )
            out.append(
                f"| {label} | {command} | {figure} | {usd(baseline)} | {usd(usage)} | {not_in or '-'} | "
                f"{usd(r.spec.target)} | {met} | ~{usd(r.spec.seed_total)} |"
            )
    return out


def _total_rows(result: TierResult) -> list[tuple[Estimate, str, str]]:
    rows = [(result.estimate, f"Tier {result.spec.tier}", f"`{result.command}`")]
    if result.modeled is not None:
        rows.append((result.modeled, f"Tier {result.spec.tier}, modeled EKS", "the row above + the modeled EKS lines"))
    return rows


def render_report(root: Path, prices: PriceTable | None = None) -> str:
    prices = prices or load_price_table()
    # The report is dated by the price table's version, not the day it runs, so it changes only with the code.
    today = dt.date.fromisoformat(prices.version)
    results = [_result(spec, root, prices, today) for spec in TIERS]
    medium = [s for s in prices.sources.values() if s.confidence.startswith("medium")]
    out = [
        "# What each tier costs a month",
        "",
        f"<!-- Generated by `{REGENERATE}` (python -m infra.cost.report --write) from the code, the price table and "
        "the usage defaults: do not edit by hand; a test fails when this file differs from what the code "
        "generates. -->",
        "",
        f"On-demand prices in {prices.region}, {prices.hours_per_month} hours a month, price table version "
        f"{prices.version} (`infra/cost/prices.yaml`, every price with its source and the date of its figures). "
        "Usage-based items (data transfer, requests, stored GB, load balancer capacity units) follow each tier's "
        "documented assumptions in `infra/cost/usage/tier-*.yaml`; a stack overrides them in `usage/<stack>.yaml`. "
        f"Amounts are exact `Decimal` sums; for display, {ROUNDING_NOTE}.",
        "",
        *(
            [
                "Every figure below is what `python -m infra.cli cost` prints for the command in the Totals table, "
                "except the rows and columns labelled *modeled EKS*: tier B's plan lacks its EKS compute and load "
                "balancer, which `cost` lists as unpriced (its total is then only a lower bound and a budget cannot "
                "be checked: exit 4); the modeled figure is that printed total plus the modeled lines listed under "
                "tier B below.",
                "",
            ]
            if any(r.modeled for r in results)
            else [
                "Every figure below is what `python -m infra.cli cost` prints for the command in the Totals table.",
                "",
            ]
        ),
        "Free allowances (CloudFront's 1 TB and 10 M requests, 100 GB of internet egress a month) are per AWS "
        "account: each stack's estimate gives them all to that stack. Stacks that share an account share them, "
        "so together they pay more than the sum of their estimates.",
        "",
        *(
            line
            for source in medium
            for line in (
                f"Prices from *{_md(source.title)}* (the ElastiCache node prices, Valkey's derived from them) are "
                f"{_md(source.confidence)}. See the Sources table.",
                "",
            )
        ),
        "## Totals against the targets",
        "",
        *_totals(results),
        "",
        "## The three tiers side by side (the seed's layout)",
        "",
        *_side_by_side(results),
        "",
    ]
    out += ["## Cost by category", "", *_chart(results)]
    out += ["## Each tier, line by line", ""]
    for r in results:
        out += _tier_detail(r)
    out += [
        "## What the seed's tables left out",
        "",
        "The seed priced only the big rows below each option; at this table's prices, these are the costs its "
        "rows did not contain (what is not one of the seed's rows: compute instances, the Atlas cluster, one "
        "cache node, the ALB's hours, S3 storage, CloudFront, as each option had them). Its own figures also "
        "carry no region, no date and no free allowance, 'Atlas M10 1-node' does not exist (every dedicated "
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
    out += ["## Warnings from the estimator", ""]
    for r in results:
        out += [f"Tier {r.spec.tier} (`{r.command}`):", "", *(f"- {_md(w)}" for w in r.estimate.warnings), ""]
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
