"""docs/costs.md is generated, never typed: the committed file must be exactly what the code generates."""

from __future__ import annotations

from infra.cost.report import REGENERATE, REPORT_PATH, render_report
from tests.infra.plans import REPO_ROOT


def test_the_committed_finance_report_is_what_the_code_generates() -> None:
    path = REPO_ROOT / REPORT_PATH
    assert path.is_file(), f"{REPORT_PATH} is missing: run `{REGENERATE}`"
    generated = render_report(REPO_ROOT)
    assert path.read_text(encoding="utf-8") == generated, (
        f"{REPORT_PATH} differs from what the code generates: run `{REGENERATE}` and commit the result"
    )
    for section in ("## The three tiers side by side", "```mermaid", "## What the seed's tables left out",
                    "## What it would take to meet each target", "## Sources"):  # fmt: skip
        assert section in generated
