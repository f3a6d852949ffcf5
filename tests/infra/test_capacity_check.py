"""Config validation warns (never refuses) when a stack's minimum fleet cannot carry its tier's traffic model peak
at 70% CPU, or carries more than twice it with more than one unit per AZ; the presets, sized from the model, pass."""

from __future__ import annotations

from decimal import Decimal

import pytest

from infra.capacity.sizing import TARGET_CPU
from infra.capacity.throughput import REQUESTS_PER_VCPU_SECOND
from infra.config.capacity_check import fleet_capacity_warnings
from infra.config.loader import resolve
from tests.infra.test_config_validation import VALID_DEV, VALID_PROD, raw


def warnings(values: dict[str, str], stack: str = "prod") -> list[str]:
    return [str(problem) for problem in fleet_capacity_warnings(resolve(raw(values, stack)))]


@pytest.mark.parametrize(("values", "stack"), [(VALID_PROD, "prod"), ({**VALID_PROD, "contentry:tier": "B"}, "prod"),
                                               (VALID_DEV, "dev")])  # fmt: skip
def test_the_presets_carry_their_peak_without_warning(values: dict[str, str], stack: str) -> None:
    assert warnings(values, stack) == []


def test_a_minimum_fleet_below_the_peak_is_named_with_the_arithmetic() -> None:
    (message,) = warnings({**VALID_PROD, "contentry:computeMinSize": "3", "contentry:computeDesiredSize": "3"})
    serve = 3 * REQUESTS_PER_VCPU_SECOND * TARGET_CPU
    assert message.startswith(f"contentry:computeMinSize: 3 x c7g.medium serve about {serve:,.0f} requests/s at 70%")
    assert "peaks at 5,000" in message
    assert "cannot carry the peak" in message


def test_more_than_twice_the_peak_warns_only_above_one_per_az() -> None:
    (message,) = warnings({**VALID_PROD, "contentry:computeMinSize": "12", "contentry:computeDesiredSize": "12"})
    assert "more than 2x the peak" in message
    # Tier C's two t4g.medium carry four times its peak, but one per AZ is the floor: no warning.
    assert warnings(VALID_DEV, "dev") == []


def test_tier_b_counts_pods_on_their_cpu_request() -> None:
    (message,) = warnings({**VALID_PROD, "contentry:tier": "B", "contentry:podMinReplicas": "3"})
    assert message.startswith("contentry:podMinReplicas: 3 pods of 1000m CPU")


def test_the_measured_figure_is_what_decides() -> None:
    config = resolve(raw(VALID_PROD, "prod"))
    assert fleet_capacity_warnings(config, rps_per_vcpu=Decimal(500)), "at 500 a vCPU, 9 instances are too few"
