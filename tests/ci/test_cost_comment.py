"""The pull request's cost comment: the golden Markdown (added, removed and changed resources, an unpriced item,
a budget breach, a new and a removed stack), what each case shows, the exit codes, and the whole command over
real plans of two configurations."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from infra.ci.cost_comment import (
    MAX_COMMENT_CHARS,
    CostComment,
    StackChange,
    Verdict,
    compare,
    exit_code,
    render_markdown,
)
from infra.ci.stacks import PlanResult, PlanTarget, write_index
from infra.cli import run
from infra.cost.diff import diff
from infra.cost.render import signed_usd
from infra.cost.stacks import estimate_of
from infra.plan.document import Plan, build_plan
from tests.ci.goldens import ASG, GOLDEN, estimate, generated, golden_comment, line
from tests.infra.plans import REPO_ROOT, plan_of


def test_the_comment_matches_its_golden_file() -> None:
    assert generated() == GOLDEN.read_text(encoding="utf-8"), (
        "the cost comment changed: if on purpose, run `python -m tests.ci.goldens --write` and review the diff"
    )


def _section(markdown: str, stack: str) -> str:
    start = markdown.index(f"### `{stack}`")
    end = markdown.find("\n### ", start + 1)
    return markdown[start : end if end != -1 else len(markdown)]


def test_the_comment_shows_the_change_per_stack_then_per_resource() -> None:
    markdown = generated()
    summary = markdown.split("\n### ", 1)[0]
    assert "| `dev` | C | $152.84 | $217.53 | +$64.69 | ✅ within $300.00 |" in summary
    assert "| `prod` | A | $900.00 | $1,200.00 | +$300.00 | ❌ over $1,000.00 |" in summary
    dev = _section(markdown, "dev")
    assert "| ~ | `app-fleet-asg` | `aws:autoscaling/group:Group` | $100.00 | $150.00 | +$50.00 |" in dev
    assert (
        "| - | `cache-redis` | `aws:elasticache/replicationGroup:ReplicationGroup` | $18.89 | $0.00 | -$18.89 |" in dev
    )
    assert "| + | `load-balancer-alb` | `aws:lb/loadBalancer:LoadBalancer` | $0.00 | $33.58 | +$33.58 |" in dev
    assert "network-nat-0" not in dev  # unchanged resources are left out


def test_unpriced_items_are_listed_and_never_counted_as_zero() -> None:
    markdown = generated()
    eks = _section(markdown, "eks")
    assert "| ? | `eks-cluster` |" in eks
    assert "unknown (unpriced: no price for the EKS control plane in the table)" in eks
    assert "- `eks-cluster` (`aws:eks/cluster:Cluster`, baseline) **new**: no price" in eks
    assert "| `eks` (new) | B | — | ≥ $33.58 | unknown: +$33.58 priced, plus 1 unpriced (?) |" in markdown
    assert "⚠️ $1,500.00: cannot be checked" in markdown
    # An unpriced usage item the base had too is listed, not marked new.
    assert "- `database-cluster` (`mongodbatlas:index/advancedCluster:AdvancedCluster`, usage): backup storage" in (
        _section(markdown, "dev")
    )
    assert markdown.startswith("## Cost change: +$364.32 a month in the priced lines, plus unpriced parts (?)")


def test_the_budget_verdict_names_the_stack_over_budget() -> None:
    markdown = generated()
    assert "**Budget verdict: ❌ over budget**: `prod` at $1,200.00 a month, budget $1,000.00." in markdown
    assert exit_code(golden_comment()) == 3


def test_verdicts_and_exit_codes() -> None:
    within = estimate("dev", "C", [line("a", ASG, "10")], budget="100")
    comment = CostComment((StackChange("dev", within, within),), "b", "h")
    assert comment.stacks[0].verdict is Verdict.WITHIN
    assert exit_code(comment) == 0
    assert "**Budget verdict: ✅ every stack with a budget is within it.**" in render_markdown(comment)
    assert "No resource's monthly cost changes." in render_markdown(comment)
    assert render_markdown(comment).startswith("## Cost change: +$0.00 a month\n")

    uncheckable = golden_comment().stacks[1]
    assert uncheckable.verdict is Verdict.UNCHECKABLE
    assert exit_code(CostComment((uncheckable,), "b", "h")) == 4

    failed = StackChange("dev", within, None, head_error="plan failed (exit 2): contentry:tier: Z is not a tier")
    comment = CostComment((failed,), "b", "h")
    assert failed.verdict is Verdict.NOT_PLANNED
    assert exit_code(comment) == 2
    markdown = render_markdown(comment)
    assert markdown.startswith("## Cost change: unknown (a stack could not be planned, see below)")
    assert "this branch could not be planned:" in markdown
    assert "contentry:tier: Z is not a tier" in markdown
    assert "**Budget verdict: ❓ unknown**: `dev` could not be planned on this branch." in markdown

    no_budget = replace(within, budget=None)
    assert StackChange("dev", no_budget, no_budget).verdict is Verdict.NO_BUDGET


def test_cells_cannot_break_the_table() -> None:
    before = estimate("dev", "C", [])
    after = estimate("dev", "C", [line("odd|name`x", ASG, "5")])
    markdown = render_markdown(CostComment((StackChange("dev", before, after),), "b", "h"))
    assert "| + | `odd\\|name'x` |" in markdown


def test_a_long_comment_is_cut_to_fit_github() -> None:
    before = estimate("dev", "C", [])
    after = estimate("dev", "C", [line(f"resource-{n:04}-{'x' * 80}", ASG, "1") for n in range(3000)])
    comment = CostComment((StackChange("dev", before, after),), "b", "h")
    markdown = render_markdown(comment, max_rows=5000)
    assert len(markdown) <= MAX_COMMENT_CHARS
    assert markdown.endswith("the job summary and `cost --against` have the rest.\n")
    rows = render_markdown(comment)
    assert "| | … 2940 more | | | | +$2,940.00 |" in rows


def _write_plans(folder: Path, plans: dict[str, Plan]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for stack, plan in plans.items():
        (folder / f"{stack}.json").write_text(plan.to_json(), encoding="utf-8")
        results.append(PlanResult(PlanTarget(stack), f"{stack}.json"))
    write_index(folder, results)
    return folder


@pytest.mark.slow
def test_the_command_over_real_plans_agrees_with_cost_against(tmp_path: Path) -> None:
    """The head grows prod's fleet and lowers its budget below the bill: exit 3, and the change shown is the
    one `cost --against` computes."""
    base = _write_plans(tmp_path / "base", {"dev": plan_of("dev"), "prod": plan_of("prod")})
    grown = build_plan("prod", ["computeMinSize=12", "computeDesiredSize=12", "monthlyBudgetUsd=1000"], REPO_ROOT)
    head = _write_plans(tmp_path / "head", {"dev": plan_of("dev"), "prod": grown})
    out = tmp_path / "comment.md"
    code = run(
        [
            "ci", "cost-comment", "--base", str(base), "--head", str(head), "--out", str(out),
            "--base-label", "abc1234", "--head-label", "def5678", "--project-dir", str(REPO_ROOT),
        ]
    )  # fmt: skip
    assert code == 3
    markdown = out.read_text(encoding="utf-8")
    expected = diff(estimate_of(plan_of("prod"), REPO_ROOT), estimate_of(grown, REPO_ROOT), "base")
    assert expected.change > 0
    assert [c.resource for c in expected.changes] == ["app-fleet-asg"]
    prod = _section(markdown, "prod")
    assert f"### `prod`: {signed_usd(expected.change)}" in prod
    assert "| ~ | `app-fleet-asg` | `aws:autoscaling/group:Group` |" in prod
    assert "❌ over $1,000.00" in markdown
    assert "No resource's monthly cost changes." in _section(markdown, "dev")
    assert "this branch (`def5678`) against its base (`abc1234`)" in markdown


def test_compare_reads_failures_and_new_stacks_from_the_indexes(tmp_path: Path) -> None:
    plan = plan_of("dev")
    base = _write_plans(tmp_path / "base", {"dev": plan})
    head = _write_plans(tmp_path / "head", {"dev": plan})
    index = json.loads((head / "index.json").read_text(encoding="utf-8"))
    index["qa"] = {"stack": "qa", "overrides": [], "plan": None, "error": "plan failed (exit 2): bad"}
    (head / "index.json").write_text(json.dumps(index), encoding="utf-8")
    comment = compare(base, head, REPO_ROOT, "b", "h")
    by_stack = {s.stack: s for s in comment.stacks}
    dev_change = by_stack["dev"].diff
    assert dev_change is not None
    assert dev_change.change == Decimal(0)
    assert by_stack["qa"].verdict is Verdict.NOT_PLANNED
    assert by_stack["qa"].head_error == "plan failed (exit 2): bad"
