"""The usage files are the traffic model's, never typed: each tier's file is what the generator derives from its
model and its presets, and a stack's own usage file overrides none of the derived figures silently."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
import yaml

from infra.capacity.traffic import average_lcu, monthly_requests, monthly_response_gb, traffic_model
from infra.cost.traffic_usage import REGENERATE, PlanShape, derive, generated, main, tier_file
from infra.cost.usage import load_usage
from tests.infra.plans import REPO_ROOT

LB = "aws:lb/loadBalancer:LoadBalancer"


@pytest.mark.parametrize("tier", ["A", "B", "C"])
def test_each_tier_s_usage_file_is_what_its_traffic_model_derives(tier: str) -> None:
    path = tier_file(tier)
    assert path.read_text(encoding="utf-8") == generated(tier), (
        f"{path} differs from tier {tier}'s traffic model: run `{REGENERATE}` (or `make cost-docs`) and commit"
    )


def test_the_check_command_agrees() -> None:
    assert main(["--check"]) == 0


def test_the_load_balancer_s_usage_is_the_model_s_arithmetic() -> None:
    model = traffic_model("A")
    values = load_usage("A").layers[0].types[LB]
    assert Decimal(str(values["lcuPerHour"])) == pytest.approx(average_lcu(model).billed, rel=Decimal("0.001"))
    assert Decimal(str(values["internetEgressGb"])) == pytest.approx(monthly_response_gb(model), rel=Decimal("0.001"))
    assert monthly_requests(model) > 4_000_000_000


def test_the_derivation_follows_the_plan_s_shape() -> None:
    model = traffic_model("C")
    shape = PlanShape.of_tier("C")
    more_retention = derive(model, replace(shape, log_retention_days=90))
    less_retention = derive(model, shape)
    assert str(more_retention) != str(less_retention), "log storage follows the retention"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_stack_usage_file_overrides_no_derived_figure(stack: str) -> None:
    path = REPO_ROOT / "usage" / f"{stack}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    overridden = {key for key in document if key != "version"}
    assert not overridden, f"{path}: {sorted(overridden)} override the traffic model's usage; change the model instead"
