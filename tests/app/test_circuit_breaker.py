"""The circuit breaker's states, driven by a fake clock."""

import pytest

from app.services.circuit_breaker import BreakerState, CircuitBreaker
from tests.app.support import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_failure_opens_the_breaker_for_the_cooldown(clock: FakeClock) -> None:
    breaker = CircuitBreaker(cooldown_seconds=5, clock=clock)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    clock.advance(4.9)
    assert not breaker.allow()
    assert breaker.times_opened == 1


def test_after_the_cooldown_one_trial_call_goes_through(clock: FakeClock) -> None:
    breaker = CircuitBreaker(cooldown_seconds=5, clock=clock)
    breaker.record_failure()
    clock.advance(5)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow(), "only one trial while it is in flight"


def test_a_successful_trial_closes_the_breaker(clock: FakeClock) -> None:
    breaker = CircuitBreaker(cooldown_seconds=5, clock=clock)
    breaker.record_failure()
    clock.advance(5)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert all(breaker.allow() for _ in range(3))


def test_a_failed_trial_opens_it_again(clock: FakeClock) -> None:
    breaker = CircuitBreaker(cooldown_seconds=5, clock=clock)
    breaker.record_failure()
    clock.advance(5)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.times_opened == 2
    clock.advance(4)
    assert not breaker.allow()


def test_a_trial_that_never_reports_back_does_not_block_forever(clock: FakeClock) -> None:
    breaker = CircuitBreaker(cooldown_seconds=5, clock=clock)
    breaker.record_failure()
    clock.advance(5)
    assert breaker.allow()  # this caller is cancelled and never reports
    clock.advance(5)
    assert breaker.allow()


def test_a_threshold_tolerates_isolated_failures(clock: FakeClock) -> None:
    breaker = CircuitBreaker(cooldown_seconds=5, failure_threshold=3, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN


@pytest.mark.parametrize(("cooldown", "threshold"), [(0, 1), (-1, 1), (5, 0)])
def test_nonsense_settings_are_refused(cooldown: float, threshold: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        CircuitBreaker(cooldown_seconds=cooldown, failure_threshold=threshold)
