"""The plan's config section: what the estimator needs beyond resources, and never a secret."""

from __future__ import annotations

import json
from pathlib import Path

from infra.plan.document import build_plan
from tests.infra.plans import plan_of
from tests.infra.test_plan_contract import write_project


def test_the_config_section_carries_the_budget_and_the_cache_settings() -> None:
    config = plan_of("prod").config
    assert config["tier"] == "A"
    assert config["monthlyBudgetUsd"] == "10600"
    assert config["cache"]["cacheMode"] == "elasticache"
    assert "externalRedisMonthlyUsd" in config["cache"]


def test_no_secret_key_reaches_the_config_section(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        "config:\n"
        "  contentry:atlasOrgId: 5f1e2d3c4b5a69788796a5b4\n"
        "  contentry:alertEmail: ops@contentry.ai\n"
        "  contentry:appImageTag: 1.4.2\n"
        "  contentry:cacheMode: external\n"
        "  contentry:externalRedisMonthlyUsd: '30'\n"
        "  contentry:externalRedisUrl:\n"
        "    secure: v1:ciphertextonlytheclicandecrypt\n",
    )
    plan = build_plan("test", (), tmp_path)
    assert plan.config["cache"] == {
        "cacheEngine": "valkey",
        "cacheMode": "external",
        "cacheNodeType": plan.config["cache"]["cacheNodeType"],
        "cacheReplicas": plan.config["cache"]["cacheReplicas"],
        "externalRedisMonthlyUsd": "30",
    }, "the secret key is removed, not masked"
    assert "offline-placeholder" not in json.dumps(plan.config)
