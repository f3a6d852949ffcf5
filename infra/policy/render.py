"""A policy report as a terminal table (with a summary) or as JSON, and the rule list for reviewers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from infra.policy.engine import Finding, Report
from infra.policy.model import Enforcement, Rule

FORMATS = ("table", "json")


LOG_WIDTH = 160
"""Width of the tables when the output is not a terminal (CI logs, files): the ids stay whole and unwrapped."""


def _stacked(ids: Sequence[str]) -> str:
    return "\n".join(ids) or "-"


def _widen_for_logs(out: Console) -> None:
    """Rich lays tables out for 80 columns when it does not write to a terminal; a log has no width limit."""
    if not out.is_terminal:
        out.width = max(out.width, LOG_WIDTH)


def finding_json(finding: Finding) -> dict[str, Any]:
    rule = finding.rule
    return {
        "rule": rule.id,
        "enforcement": finding.enforcement.value,
        "resource": finding.resource.name,
        "type": finding.resource.type,
        "urn": finding.resource.urn,
        "message": finding.message,
        "checkov": list(rule.checkov),
        "trivy": list(rule.trivy),
        "unchecked": finding.unchecked,
    }


def to_json(report: Report) -> str:
    document = {
        "project": report.project,
        "stack": report.stack,
        "tier": report.tier,
        "environment": report.environment,
        "environmentAssumed": report.environment_assumed,
        "rulesRun": [rule.id for rule in report.rules_run],
        "rulesSkipped": [rule.id for rule in report.rules_skipped],
        "resources": report.resources,
        "passed": report.passed,
        "summary": {
            "mandatory": len(report.mandatory),
            "advisory": len(report.advisory),
            "unchecked": len(report.unchecked),
        },
        "findings": [finding_json(finding) for finding in report.findings],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _level(finding: Finding) -> str:
    if finding.unchecked:
        return "[yellow]unchecked[/]"
    if finding.enforcement is Enforcement.MANDATORY:
        return "[bold red]mandatory[/]"
    return "[yellow]advisory[/]"


def summary(report: Report) -> str:
    verdict = "[bold green]passed[/]" if report.passed else "[bold red]failed[/]"
    skipped = f", {len(report.rules_skipped)} production-only rules skipped" if report.rules_skipped else ""
    return (
        f"Policy check {verdict}: {len(report.rules_run)} rules over {report.resources} resources of "
        f"{report.project}-{report.stack} (tier {report.tier}, {report.environment}{skipped}): "
        f"{len(report.mandatory)} mandatory violations, {len(report.advisory)} advisory, "
        f"{len(report.unchecked)} unchecked"
    )


def print_report(report: Report, out: Console) -> None:
    _widen_for_logs(out)
    if report.environment_assumed:
        out.print(
            "[yellow]note:[/] the plan has no config.environment (written by an older `plan`): production rules applied"
        )
    if report.findings:
        table = Table(title="Policy findings", show_lines=True)
        for column in ("rule", "level", "resource"):
            table.add_column(column, no_wrap=True)
        table.add_column("message", ratio=1, overflow="fold")
        for column in ("Checkov", "Trivy"):
            table.add_column(column, no_wrap=True)
        ordered = sorted(report.findings, key=lambda f: (not f.blocks, f.rule.id, f.resource.name))
        for finding in ordered:
            table.add_row(
                finding.rule.id,
                _level(finding),
                finding.resource.name,
                finding.message,
                _stacked(finding.rule.checkov),
                _stacked(finding.rule.trivy),
            )
        out.print(table)
    out.print(summary(report))


def print_rules(rules: Sequence[Rule], out: Console) -> None:
    _widen_for_logs(out)
    table = Table(title="Policy rules (infra/policy/registry.py)", show_lines=True)
    for column in ("rule", "level", "scope"):
        table.add_column(column, no_wrap=True)
    table.add_column("description", ratio=1, overflow="fold")
    for column in ("Checkov", "Trivy"):
        table.add_column(column, no_wrap=True)
    for rule in rules:
        scope = "production" if rule.production_only else "every stack"
        level = rule.enforcement.value
        if rule.production_enforcement not in (None, rule.enforcement):
            level += f" ({rule.enforcement_in(production=True).value} in production)"
        table.add_row(rule.id, level, scope, rule.description, _stacked(rule.checkov), _stacked(rule.trivy))
    out.print(table)
