"""Fixtures for the infrastructure tests: the offline plan of any stack or tier, built once per session."""

from __future__ import annotations

import pytest

from infra.plan.document import Plan
from tests.infra.plans import STACKS, plan_of


@pytest.fixture(params=sorted(STACKS), ids=sorted(STACKS))
def any_plan(request: pytest.FixtureRequest) -> Plan:
    stack, overrides = STACKS[request.param]
    return plan_of(stack, overrides)


@pytest.fixture
def dev_plan() -> Plan:
    return plan_of("dev")


@pytest.fixture
def prod_plan() -> Plan:
    return plan_of("prod")
