"""A small circuit breaker: after a failure, stop calling a dependency for a cooldown, then try once.

Used in front of Redis so that a dead or hung cache costs one timeout per cooldown per process, not one per
request. States: closed (calls go through), open (calls are skipped until the cooldown ends), half-open (one
trial call is let through; its success closes the breaker, its failure opens it again).
"""

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        *,
        cooldown_seconds: float,
        failure_threshold: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if cooldown_seconds <= 0:
            raise ValueError("cooldown_seconds must be positive")
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.cooldown_seconds = cooldown_seconds
        self.failure_threshold = failure_threshold
        self._clock = clock
        self._consecutive_failures = 0
        self._opened_at: float | None = None
        self._trial_started_at: float | None = None
        self.times_opened = 0

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self.cooldown_seconds:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def allow(self) -> bool:
        """Whether to call the dependency now. In half-open state only one caller gets a trial."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN:
            return False
        now = self._clock()
        # A trial whose caller never reported back (cancelled request) must not keep the breaker shut forever.
        if self._trial_started_at is not None and now - self._trial_started_at < self.cooldown_seconds:
            return False
        self._trial_started_at = now
        return True

    def record_success(self) -> None:
        self._consecutive_failures = 0
        self._opened_at = None
        self._trial_started_at = None

    def record_failure(self) -> None:
        self._consecutive_failures += 1
        was_trial = self._trial_started_at is not None
        if was_trial or self._consecutive_failures >= self.failure_threshold:
            if self._opened_at is None or was_trial:
                self.times_opened += 1
            self._opened_at = self._clock()
            self._trial_started_at = None

    def snapshot(self) -> dict[str, object]:
        return {
            "state": self.state.value,
            "times_opened": self.times_opened,
            "cooldown_seconds": self.cooldown_seconds,
        }
