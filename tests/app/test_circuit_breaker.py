"""The circuit breaker's states, driven by a fake clock: it opens on a failure rate over a window."""

import pytest

from app.services.circuit_breaker import BreakerState, CircuitBreaker
from tests.app.support import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def breaker(clock: FakeClock, *, min_calls: int = 4, failure_rate: float = 0.5, window: float = 10) -> CircuitBreaker:
    return CircuitBreaker(
        cooldown_seconds=5, window_seconds=window, min_calls=min_calls, failure_rate=failure_rate, clock=clock
    )


def open_it(subject: CircuitBreaker) -> None:
    for _ in range(subject.min_calls):
        subject.record_failure()
    assert subject.state is BreakerState.OPEN


def test_one_failure_does_not_open_it(clock: FakeClock) -> None:
    subject = breaker(clock)
    assert not subject.record_failure()
    assert subject.state is BreakerState.CLOSED
    assert subject.allow()


def test_it_opens_once_the_window_holds_min_calls_at_the_failure_rate(clock: FakeClock) -> None:
    subject = breaker(clock, min_calls=4, failure_rate=0.5)
    subject.record_success()
    subject.record_success()
    assert not subject.record_failure()  # 1 of 3: below min_calls
    assert subject.record_failure()  # 2 of 4 = 50%: opens, and says so once
    assert subject.state is BreakerState.OPEN
    assert not subject.allow()
    assert subject.times_opened == 1


def test_a_low_failure_rate_never_opens_it(clock: FakeClock) -> None:
    subject = breaker(clock, min_calls=4, failure_rate=0.5)
    for _ in range(100):
        subject.record_success()
        subject.record_success()
        subject.record_failure()  # one in three
        clock.advance(0.1)
    assert subject.state is BreakerState.CLOSED
    assert subject.times_opened == 0


def test_failures_older_than_the_window_are_forgotten(clock: FakeClock) -> None:
    subject = breaker(clock, min_calls=4, window=10)
    for _ in range(3):
        subject.record_failure()
    clock.advance(10)
    assert subject.window_counts() == (0, 0)
    subject.record_failure()
    assert subject.state is BreakerState.CLOSED, "three failures 10 s ago and one now are not four in the window"


def test_the_window_slides_second_by_second(clock: FakeClock) -> None:
    subject = breaker(clock, min_calls=4, window=3)
    subject.record_failure()
    clock.advance(1)
    subject.record_failure()
    clock.advance(1)
    subject.record_failure()
    assert subject.window_counts() == (3, 3)
    clock.advance(1)  # the first second has left the window
    assert subject.window_counts() == (2, 2)
    subject.record_failure()
    subject.record_failure()
    assert subject.state is BreakerState.OPEN


def test_after_the_cooldown_one_trial_call_goes_through(clock: FakeClock) -> None:
    subject = breaker(clock)
    open_it(subject)
    clock.advance(4.9)
    assert not subject.allow()
    clock.advance(0.1)
    assert subject.state is BreakerState.HALF_OPEN
    assert subject.allow()
    assert not subject.allow(), "only one trial while it is in flight"


def test_a_successful_trial_closes_it_with_an_empty_window(clock: FakeClock) -> None:
    subject = breaker(clock)
    open_it(subject)
    clock.advance(5)
    assert subject.allow()
    subject.record_success()
    assert subject.state is BreakerState.CLOSED
    assert subject.window_counts() == (0, 0)
    assert not subject.record_failure(), "a fresh start: one failure after recovery does not reopen it"
    assert all(subject.allow() for _ in range(3))


def test_a_failed_trial_opens_it_again(clock: FakeClock) -> None:
    subject = breaker(clock)
    open_it(subject)
    clock.advance(5)
    assert subject.allow()
    assert subject.record_failure()
    assert subject.state is BreakerState.OPEN
    assert subject.times_opened == 2
    clock.advance(4)
    assert not subject.allow()


def test_late_failures_of_calls_started_before_it_opened_change_nothing(clock: FakeClock) -> None:
    subject = breaker(clock)
    open_it(subject)
    assert not subject.record_failure()
    assert subject.times_opened == 1
    clock.advance(5)
    assert subject.state is BreakerState.HALF_OPEN, "the cooldown was not restarted"


def test_a_trial_that_never_reports_back_does_not_block_forever(clock: FakeClock) -> None:
    subject = breaker(clock)
    open_it(subject)
    clock.advance(5)
    assert subject.allow()  # this caller is cancelled and never reports
    clock.advance(5)
    assert subject.allow()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cooldown_seconds": 0}, "cooldown_seconds"),
        ({"cooldown_seconds": -1}, "cooldown_seconds"),
        ({"window_seconds": 0.5}, "window_seconds"),
        ({"min_calls": 0}, "min_calls"),
        ({"failure_rate": 0}, "failure_rate"),
        ({"failure_rate": 1.5}, "failure_rate"),
    ],
)
def test_nonsense_settings_are_refused(changes: dict[str, float], message: str) -> None:
    arguments: dict[str, float] = {
        "cooldown_seconds": 5.0,
        "window_seconds": 10.0,
        "min_calls": 10,
        "failure_rate": 0.5,
        **changes,
    }
    with pytest.raises(ValueError, match=message):
        CircuitBreaker(
            cooldown_seconds=arguments["cooldown_seconds"],
            window_seconds=arguments["window_seconds"],
            min_calls=int(arguments["min_calls"]),
            failure_rate=arguments["failure_rate"],
        )
