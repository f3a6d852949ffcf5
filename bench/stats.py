"""Latency and error statistics per step and endpoint: plain Python, no locust, so it is testable alone."""

import math
import time
from dataclasses import dataclass, field
from typing import Any


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return round(sorted_values[rank - 1], 1)


@dataclass
class EndpointSamples:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def summary(self, seconds: float) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        count = len(ordered)
        return {
            "requests": count,
            "rps": round(count / seconds, 1) if seconds > 0 else None,
            "p50_ms": percentile(ordered, 0.50),
            "p95_ms": percentile(ordered, 0.95),
            "p99_ms": percentile(ordered, 0.99),
            "max_ms": round(ordered[-1], 1) if ordered else None,
            "errors": self.errors,
            "error_rate": round(self.errors / count, 5) if count else None,
            "error_kinds": dict(sorted(self.error_kinds.items())),
        }


@dataclass
class Step:
    users: int
    started: float
    ended: float | None = None
    samples: dict[str, EndpointSamples] = field(default_factory=dict)
    cpu_percent: list[float] = field(default_factory=list)

    def record(self, name: str, response_time_ms: float, exception: BaseException | None) -> None:
        samples = self.samples.setdefault(name, EndpointSamples())
        samples.latencies_ms.append(response_time_ms)
        if exception is not None:
            samples.errors += 1
            kind = type(exception).__name__
            samples.error_kinds[kind] = samples.error_kinds.get(kind, 0) + 1

    def summary(self) -> dict[str, Any]:
        seconds = (self.ended or time.monotonic()) - self.started
        total = EndpointSamples()
        for samples in self.samples.values():
            total.latencies_ms.extend(samples.latencies_ms)
            total.errors += samples.errors
        overall = total.summary(seconds)
        return {
            "users": self.users,
            "seconds": round(seconds, 1),
            "requests": overall["requests"],
            "rps": overall["rps"],
            "errors": overall["errors"],
            "error_rate": overall["error_rate"],
            "p95_ms": overall["p95_ms"],
            "machine_cpu_percent": round(sum(self.cpu_percent) / len(self.cpu_percent), 1)
            if self.cpu_percent
            else None,
            "endpoints": {name: self.samples[name].summary(seconds) for name in sorted(self.samples)},
        }


def max_error_free_users(step_summaries: list[dict[str, Any]]) -> int:
    """The highest step reached with no error in it or in any step before it (0 if the first step failed)."""
    reached = 0
    for summary in step_summaries:
        if summary["errors"] or not summary["requests"]:
            break
        reached = summary["users"]
    return reached
