"""A circuit breaker that opens on a failure *rate* over a sliding window, then lets one trial call through.

Used in front of Redis so that a dead or hung cache costs a few timeouts per cooldown per process, not one per
request, while one stray error (a connection reset by a failover, a single slow reply) never sends all the
traffic to the database. States:
- closed: calls go through; each outcome is counted in per-second buckets covering `window_seconds`. Once the
  window holds at least `min_calls` outcomes and at least `failure_rate` of them failed, the breaker opens;
- open: calls are skipped until `cooldown_seconds` have passed;
- half-open: one trial call is let through; its success closes the breaker with an empty window, its failure
  opens it again for another cooldown.
"""

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class _Bucket:
    second: int
    calls: int = 0
    failures: int = 0


class CircuitBreaker:
    def __init__(
        self,
        *,
        cooldown_seconds: float,
        window_seconds: float = 10.0,
        min_calls: int = 10,
        failure_rate: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if cooldown_seconds <= 0:
            raise ValueError("cooldown_seconds must be positive")
        if window_seconds < 1:
            raise ValueError("window_seconds must be at least 1 (the window is counted in one-second buckets)")
        if min_calls < 1:
            raise ValueError("min_calls must be at least 1")
        if not 0 < failure_rate <= 1:
            raise ValueError("failure_rate must be in (0, 1]")
        self.cooldown_seconds = cooldown_seconds
        self.window_seconds = window_seconds
        self.min_calls = min_calls
        self.failure_rate = failure_rate
        self._clock = clock
        self._buckets: deque[_Bucket] = deque()
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
        if self._opened_at is not None:
            # The trial (or a call that started before the breaker opened) succeeded: the dependency is back.
            self._close()
            return
        self._count(failed=False)

    def record_failure(self) -> bool:
        """Count a failure. Returns True if this failure opened the breaker (for a single log line)."""
        if self._opened_at is not None:
            if self._trial_started_at is None:
                return False  # a call that started before the breaker opened: already accounted for
            self._open()  # the trial failed: another cooldown
            return True
        self._count(failed=True)
        calls, failures = self.window_counts()
        if calls >= self.min_calls and failures >= self.failure_rate * calls:
            self._open()
            return True
        return False

    def window_counts(self) -> tuple[int, int]:
        """(calls, failures) in the current window."""
        self._prune(self._second())
        return sum(b.calls for b in self._buckets), sum(b.failures for b in self._buckets)

    def snapshot(self) -> dict[str, object]:
        calls, failures = self.window_counts()
        return {
            "state": self.state.value,
            "times_opened": self.times_opened,
            "cooldown_seconds": self.cooldown_seconds,
            "window_seconds": self.window_seconds,
            "window_calls": calls,
            "window_failures": failures,
        }

    def _second(self) -> int:
        return math.floor(self._clock())

    def _prune(self, second: int) -> None:
        oldest_kept = second - math.ceil(self.window_seconds) + 1
        while self._buckets and self._buckets[0].second < oldest_kept:
            self._buckets.popleft()

    def _count(self, *, failed: bool) -> None:
        second = self._second()
        self._prune(second)
        if not self._buckets or self._buckets[-1].second != second:
            self._buckets.append(_Bucket(second))
        bucket = self._buckets[-1]
        bucket.calls += 1
        bucket.failures += failed

    def _open(self) -> None:
        if self._opened_at is None or self._trial_started_at is not None:
            self.times_opened += 1
        self._opened_at = self._clock()
        self._trial_started_at = None
        self._buckets.clear()

    def _close(self) -> None:
        self._opened_at = None
        self._trial_started_at = None
        self._buckets.clear()
