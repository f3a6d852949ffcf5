"""The program as it is passes every mandatory rule, in every tier and environment, and no rule is vacuous."""

from __future__ import annotations

from collections import Counter

import pytest

from infra.plan.recording import REDACTED
from infra.policy.engine import check_plan
from infra.policy.model import SECRET
from infra.policy.registry import RULES
from tests.infra.plans import STACKS
from tests.policy.support import real_plan


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_the_real_plan_has_no_mandatory_violation(stack_id: str) -> None:
    report = check_plan(real_plan(stack_id))
    assert report.passed, "\n".join(f"{f.rule.id}: {f.message}" for f in report.mandatory)
    assert report.unchecked == [], "an offline plan knows every value"
    assert not report.environment_assumed
    expected_environment = "production" if STACKS[stack_id][0] == "prod" else "development"
    assert report.environment == expected_environment
    production_only = {r.id for r in RULES if r.production_only}
    skipped = {r.id for r in report.rules_skipped}
    assert skipped == (set() if expected_environment == "production" else production_only)


def test_every_rule_inspects_something_in_the_real_plans() -> None:
    """A rule whose types the program never creates would pass forever without checking anything."""
    inspected: Counter[str] = Counter()
    for stack_id in STACKS:
        types = Counter(r["type"] for r in real_plan(stack_id).resources)
        for rule in RULES:
            inspected[rule.id] += sum(types[t] for t in rule.resource_types)
    assert [rule.id for rule in RULES if inspected[rule.id] == 0] == []


def test_rule_ids_are_unique_and_mapped() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.description.endswith("."), rule.id
        assert rule.resource_types, rule.id
        assert all(id_.startswith(("CKV_", "CKV2_")) for id_ in rule.checkov), rule.id
        # Trivy's AWS checks are AWS-*, its Kubernetes checks KSV*.
        assert all(id_.startswith(("AWS-", "KSV")) for id_ in rule.trivy), rule.id


def test_the_rules_read_secrets_as_the_plan_marks_them() -> None:
    assert SECRET == REDACTED
