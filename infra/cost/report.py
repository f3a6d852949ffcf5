"""docs/costs.md, generated from the code: a one-page summary per tier (the users it carries at p95 < 200 ms, how
that was measured, what it costs a month and a year, per 1,000 users, against finance's target), then the traffic
model, the measured throughput, the sizing, the lever search, the commitment view and every line with its source.

The figures are computed here (`report_context`); the layout is the Jinja2 template
`infra/cost/templates/costs.md.j2`. `python -m infra.cost.report --write` (or `make cost-docs`) rewrites the file;
`--check` fails when the committed file differs from what the code generates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from infra.capacity.alb_lcu import ALB_LCU_SOURCE
from infra.capacity.mongo_connections import CONNECTIONS_ALERT_SHARE, FLEET_SHARE_OF_LIMIT
from infra.capacity.sizing import TARGET_CPU, PodSizing
from infra.capacity.throughput import COMMAND, CROSS_CHECK, MEASURED_ON, REFERENCE, REQUESTS_PER_VCPU_SECOND
from infra.capacity.traffic import (
    EndpointClass,
    TrafficModel,
    average_lcu,
    describe,
    model_path,
    peak_lcu,
)
from infra.cost.finance import SIZE_FLEXIBILITY_SOURCE, TierReport, tier_report
from infra.cost.levers import AUDIT_FLOOR_DAYS, Candidate
from infra.cost.model import Category, Estimate, Kind, Line
from infra.cost.price_table import PriceTable, load_price_table
from infra.cost.render import ROUNDING_NOTE, displayed_split, line_cents, quantity, unit_price, usd
from infra.cost.tiers import TIERS, TierSpec

REGENERATE = "make cost-docs"
REPORT_PATH = Path("docs") / "costs.md"
TEMPLATE = "costs.md.j2"
TEMPLATES = Path(__file__).resolve().parent / "templates"
SEED_ROWS = {
    "A": (
        ("MongoDB Atlas M30", "3-node replica", "$570"),
        ("ElastiCache Redis", "cache.t3.medium", "$50"),
        ("4x EC2 c5.xlarge", "API servers", "$480"),
        ("Application LB", "", "$20"),
        ("S3 + CloudFront", "1TB storage", "$75"),
    ),
    "B": (
        ("GKE/EKS Cluster", "6 n2-standard-4 nodes", "$600"),
        ("MongoDB Atlas M30", "3-node replica", "$570"),
        ("Memorystore Redis", "5GB", "$150"),
        ("Cloud Storage + CDN", "1TB", "$75"),
    ),
    "C": (
        ("MongoDB Atlas M10", "1-node", "$57"),
        ("Redis Cloud", "Free tier", "$0"),
        ("2x EC2 t3.large", "API servers", "$120"),
        ("S3", "100GB", "$3"),
    ),
}
"""The seed's own tables, verbatim."""
TRAFFIC_CATEGORIES = (Category.DATA_TRANSFER, Category.LOAD_BALANCER, Category.CDN)
LEVER_ROWS = 6
"""Configurations shown per tier in the lever table (the cheapest ones; the count of the rest is given)."""


def md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def thousands(value: Decimal | int | float) -> str:
    return f"{Decimal(value):,.0f}"


def percent(value: Decimal) -> str:
    return f"{Decimal(value) * 100:.0f}%"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # noqa: S701 - Markdown for a repository, not HTML for a browser
    )
    env.filters.update(usd=usd, md=md, thousands=thousands, percent=percent, quantity=quantity, unit_price=unit_price)
    return env


def _lines(estimate: Estimate) -> list[dict[str, Any]]:
    return [
        {
            "resource": line.resource,
            "component": line.component,
            "quantity": f"{quantity(line.quantity)} {line.unit}",
            "unit_price": unit_price(line.unit_price),
            "monthly": usd(shown),
            "kind": line.kind.value,
            "source": line.source,
            "url": line.source_url,
        }
        for line, shown in zip(estimate.lines, line_cents(estimate), strict=True)
    ]


def _categories(estimate: Estimate) -> dict[Category, Decimal]:
    shown = line_cents(estimate)
    totals: dict[Category, Decimal] = {}
    for line, amount in zip(estimate.lines, shown, strict=True):
        totals[line.category] = totals.get(line.category, Decimal(0)) + amount
    return totals


def _traffic_driven(estimate: Estimate) -> list[tuple[str, Decimal]]:
    """The usage-based lines grouped the way finance asks: egress, LCUs, CDN, NAT data, logs, the rest."""
    groups: dict[str, Decimal] = {}
    for line, amount in zip(estimate.lines, line_cents(estimate), strict=True):
        if line.kind is not Kind.USAGE:
            continue
        groups[_traffic_group(line)] = groups.get(_traffic_group(line), Decimal(0)) + amount
    order = ("Internet egress", "CDN", "Load balancer capacity units", "NAT data", "Logs", "Across AZs", "Other")
    return [(name, groups[name]) for name in order if name in groups]


def _traffic_group(line: Line) -> str:
    key = line.price_key
    if key.startswith("internet.data-out"):
        return "Internet egress"
    if key.startswith("cloudfront."):
        return "CDN"
    if key.startswith("elb.") and "lcu" in key:
        return "Load balancer capacity units"
    if key.startswith("vpc.nat.data"):
        return "NAT data"
    if key.startswith("cloudwatch.logs") or line.resource.endswith("-logs"):
        return "Logs"
    if key.startswith(("ec2.data-transfer", "atlas.aws.data-transfer")):
        return "Across AZs"
    return "Other"


def _candidate_row(candidate: Candidate) -> dict[str, Any]:
    fleet, levers, estimate = candidate.chosen
    return {
        "structure": ", ".join(f"`{item}`" for item in candidate.structure) or "as the tier",
        "fleet": fleet.describe(),
        "cache": levers.cache_node_type,
        "price_class": levers.cdn_price_class,
        "retention": levers.log_retention_days,
        "monthly": usd(estimate.total),
    }


def _structure_rows(priced: list[Candidate]) -> list[dict[str, Any]]:
    """The cheapest combination of each structure (NAT gateway or instance, CDN off or on), when the tier has
    several: what each structural choice costs with every other lever at its best."""
    cheapest: dict[tuple[str, ...], Candidate] = {}
    for candidate in priced:  # cheapest first
        cheapest.setdefault(candidate.structure, candidate)
    return [_candidate_row(c) for c in cheapest.values()] if len(cheapest) > 1 else []


def _sizing(report: TierReport) -> dict[str, Any]:
    fleet, _, _ = report.best.chosen
    sizing = fleet.sizing
    if isinstance(sizing, PodSizing):
        return {
            "kind": "pods",
            "pods": sizing.pods,
            "nodes": sizing.nodes,
            "node": sizing.node.instance_type,
            "pod_cpu": sizing.pod_cpu,
            "cpu_at_peak": sizing.cpu_at_peak(),
            "vcpus_needed": sizing.peak_rps / (sizing.rps_per_vcpu * TARGET_CPU),
        }
    return {
        "kind": "instances",
        "fleet": sizing.fleet,
        "instance_type": sizing.instance_type,
        "vcpus": sizing.vcpus,
        "vcpus_needed": sizing.vcpus_needed,
        "cpu_at_peak": sizing.cpu_at_peak(),
        "cpu_after_loss": sizing.cpu_at_peak_after_zone_loss,
    }


def _model_rows(models: dict[str, TrafficModel]) -> list[dict[str, Any]]:
    """Every figure of the three models, side by side, with its basis (shown once when the tiers share it)."""
    keys = list(models["A"].figures())
    rows = []
    for key in keys:
        figures = {tier: model.figures()[key] for tier, model in models.items()}
        bases = list(dict.fromkeys(figure.basis for figure in figures.values()))
        rows.append(
            {
                "key": key,
                "values": {tier: f"{figure.value.normalize():,f}" for tier, figure in figures.items()},
                "basis": " / ".join(bases),
            }
        )
    return rows


def _tier_context(report: TierReport, prices: PriceTable) -> dict[str, Any]:
    estimate = report.estimate
    total, baseline, traffic = displayed_split(estimate)
    best_fleet, best_levers, _ = report.best.chosen
    derived = describe(report.model)
    lcu_peak, lcu_average = peak_lcu(report.model), average_lcu(report.model)
    priced, refused = report.search.priced, report.search.refused
    refusals = Counter(_refusal_reason(c) for c in refused)
    commitments = report.commitments
    return {
        "spec": report.spec,
        "report": report,
        "estimate": estimate,
        "total": total,
        "baseline": baseline,
        "traffic": traffic,
        "traffic_driven": _traffic_driven(estimate),
        "categories": _categories(estimate),
        "lines": _lines(estimate),
        "derived": derived,
        "lcu_peak": lcu_peak,
        "lcu_average": lcu_average,
        "settings": report.settings,
        "fleet": best_fleet.describe(),
        "levers": best_levers,
        "structure": ", ".join(f"`{item}`" for item in report.best.structure),
        "sizing": _sizing(report),
        "connections": report.connections,
        "lever_rows": [_candidate_row(c) for c in priced[:LEVER_ROWS]],
        "structure_rows": _structure_rows(priced),
        "lever_count": len(priced),
        "refused_count": len(refused),
        "refusals": refusals.most_common(4),
        "commitments": commitments,
        "commitment_saving": estimate.total - commitments.monthly,
        "verdict": report.verdict,
        "affordable": report.affordable,
        "ranged": estimate.ranged,
        "support": report.support,
        "warnings": estimate.warnings,
        "kms_keys": [line.resource for line in estimate.lines if line.price_key == "kms.key"],
        "waf": [line.resource for line in estimate.lines if line.price_key.startswith("waf.")],
    }


def _bench(root: Path) -> dict[str, Any]:
    """What the committed capacity run says about itself: the machine, its load, whose CPU went where."""
    run = json.loads((root / REFERENCE).read_text(encoding="utf-8"))
    capacity, machine = run["capacity"], run["machine"]
    steps = [step for step in capacity["mix_steps"] if step["within_goal"]]

    def spread(key: str) -> str:
        values = [round(step[key]) for step in steps]
        return f"{min(values)}-{max(values)}" if min(values) != max(values) else f"{values[0]}"

    return {
        "started_at": run["started_at"],
        "cpus": machine["cpus"],
        "load_start": machine["load_average_at_start"][0],
        "load_end": machine["load_average_at_end"][0],
        "others": spread("other_processes_percent_of_one_core"),
        "generator": spread("generator_cpu_percent_of_one_core"),
        "app_us": {name: round(value) for name, value in capacity["app_cpu_us_per_request_by_class"].items()},
        "database_us": round(capacity["test_database_cpu_us_per_request_mix"]),
        "each_step": capacity["requests_per_vcpu_second_each_step"],
    }


def _refusal_reason(candidate: Candidate) -> str:
    """The first problem of a refused candidate, without the values that differ between candidates."""
    text = candidate.refused.split("; ")[0]
    return text.split(":")[0] + ": " + text.split(":", 2)[-1].strip()[:140] if ":" in text else text[:160]


def _sources(prices: PriceTable, today: dt.date) -> list[dict[str, Any]]:
    counts = Counter(price.source.id for price in prices.prices.values())
    rows = []
    for source in prices.sources.values():
        rows.append(
            {
                "source": source,
                "prices": counts.get(source.id, 0),
                "old": (today - source.date).days > prices.max_age_days and counts.get(source.id, 0),
            }
        )
    return rows


def _price_age(reports: list[TierReport], prices: PriceTable, today: dt.date) -> str:
    """One line: how many of the prices the three tiers use are past the table's age limit."""
    used = {line.price_key for r in reports for line in r.estimate.lines if line.price_key in prices.prices}
    old = prices.stale(today, used)
    if not old:
        return f"All {len(used)} prices used are younger than {prices.max_age_days} days."
    oldest = min(price.source.date for price in old)
    return (
        f"Price age: {len(old)} of the {len(used)} prices used are older than {prices.max_age_days} days (the oldest "
        f"from {oldest.isoformat()}): re-read their sources (Sources, below) and update infra/cost/prices.yaml."
    )


def report_context(root: Path, prices: PriceTable) -> dict[str, Any]:
    # Dated by the price table's version, not the day it runs: the report changes only with the code.
    today = dt.date.fromisoformat(prices.version)
    reports = [tier_report(spec, root, prices, today) for spec in TIERS]
    tiers = [_tier_context(report, prices) for report in reports]
    models = {report.spec.tier: report.model for report in reports}
    return {
        "regenerate": REGENERATE,
        "prices": prices,
        "rounding": ROUNDING_NOTE,
        "price_age": _price_age(reports, prices, today),
        "tiers": tiers,
        "categories": [c for c in Category if any(c in t["categories"] for t in tiers)],
        "models": models,
        "model_rows": _model_rows(models),
        "model_paths": {tier: model_path(tier) for tier in models},
        "classes": [endpoint.value for endpoint in EndpointClass],
        "throughput": {
            "figure": REQUESTS_PER_VCPU_SECOND,
            "measured_on": MEASURED_ON,
            "command": COMMAND,
            "reference": REFERENCE,
            "at_seventy": REQUESTS_PER_VCPU_SECOND * TARGET_CPU,
            "cross_check": CROSS_CHECK,
        },
        "bench": _bench(root),
        "target_cpu": TARGET_CPU,
        "fleet_share": Decimal(FLEET_SHARE_OF_LIMIT.numerator) / FLEET_SHARE_OF_LIMIT.denominator,
        "alert_share": Decimal(CONNECTIONS_ALERT_SHARE.numerator) / CONNECTIONS_ALERT_SHARE.denominator,
        "audit_floor": AUDIT_FLOOR_DAYS,
        "lcu_source": ALB_LCU_SOURCE,
        "size_flexibility": SIZE_FLEXIBILITY_SOURCE,
        "seed_rows": SEED_ROWS,
        "sources": _sources(prices, today),
        "max_age": prices.max_age_days,
    }


def render_report(root: Path, prices: PriceTable | None = None) -> str:
    prices = prices or load_price_table()
    return _environment().get_template(TEMPLATE).render(report_context(root, prices))


def tier_spec(tier: str) -> TierSpec:
    return next(spec for spec in TIERS if spec.tier == tier)


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
