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
    # Response body bytes of the answers that succeeded, and where each answer came from (the X-Cache header:
    # hit, miss, bypass): what the capacity run reports per endpoint class.
    response_bytes: list[int] = field(default_factory=list)
    cache_sources: dict[str, int] = field(default_factory=dict)

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
            "mean_response_bytes": round(sum(self.response_bytes) / len(self.response_bytes), 1)
            if self.response_bytes
            else None,
            "cache_sources": dict(sorted(self.cache_sources.items())),
        }


@dataclass
class Step:
    users: int
    started: float
    ended: float | None = None
    samples: dict[str, EndpointSamples] = field(default_factory=dict)
    cpu_percent: list[float] = field(default_factory=list)
    # The load generator's own process, in % of one core: near 100 it, not the app, may be the limit.
    generator_cpu_percent: list[float] = field(default_factory=list)

    def record(
        self,
        name: str,
        response_time_ms: float,
        exception: BaseException | None,
        *,
        response_bytes: int | None = None,
        cache_source: str | None = None,
    ) -> None:
        samples = self.samples.setdefault(name, EndpointSamples())
        samples.latencies_ms.append(response_time_ms)
        if exception is not None:
            samples.errors += 1
            kind = type(exception).__name__
            samples.error_kinds[kind] = samples.error_kinds.get(kind, 0) + 1
            return
        if response_bytes is not None:
            samples.response_bytes.append(response_bytes)
        if cache_source:
            samples.cache_sources[cache_source] = samples.cache_sources.get(cache_source, 0) + 1

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
            "machine_cpu_percent": _mean(self.cpu_percent),
            "generator_cpu_percent_of_one_core": _mean(self.generator_cpu_percent),
            "endpoints": {name: self.samples[name].summary(seconds) for name in sorted(self.samples)},
        }


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def saturation_point(step_summaries: list[dict[str, Any]], p95_below_ms: float) -> dict[str, Any] | None:
    """The step with the highest throughput whose p95 stayed under the bound with no error at all: the highest
    rate this setup sustains within the goal (None if no step did)."""
    within = [
        summary
        for summary in step_summaries
        if summary["requests"] and not summary["errors"] and (summary["p95_ms"] or 0) < p95_below_ms
    ]
    return max(within, key=lambda summary: summary["rps"] or 0, default=None)


@dataclass
class CacheTimeline:
    """X-Cache answers of the cached read in fixed buckets of wall time (seconds since the epoch), to see the
    hit ratio fall when Redis stops and come back after it starts."""

    bucket_seconds: float = 0.5
    buckets: dict[int, dict[str, int]] = field(default_factory=dict)

    def record(self, at: float, source: str) -> None:
        bucket = self.buckets.setdefault(int(at // self.bucket_seconds), {})
        bucket[source] = bucket.get(source, 0) + 1

    def series(self) -> list[dict[str, Any]]:
        return [
            {"at": round(index * self.bucket_seconds, 3), **counts} for index, counts in sorted(self.buckets.items())
        ]


def hit_ratio(buckets: list[dict[str, Any]]) -> float | None:
    hits = sum(bucket.get("hit", 0) for bucket in buckets)
    total = sum(bucket.get(source, 0) for bucket in buckets for source in ("hit", "miss", "bypass", "error"))
    return hits / total if total else None


def recovery_seconds(
    series: list[dict[str, Any]], *, outage_start: float, redis_back: float, window_seconds: float = 1.0
) -> dict[str, Any]:
    """When the cache's hit ratio is back to its level before the outage, counted from the moment Redis
    accepted connections again: the start of the first window (of window_seconds) after that moment whose
    hit ratio reaches 95% of the ratio over the 5 s before the outage."""
    baseline = hit_ratio([b for b in series if outage_start - 5 <= b["at"] < outage_start])
    result: dict[str, Any] = {"baseline_hit_ratio": _round(baseline), "recovered_after_seconds": None}
    if baseline is None:
        return result
    after = [b for b in series if b["at"] >= redis_back]
    for index, bucket in enumerate(after):
        window = [b for b in after[index:] if b["at"] < bucket["at"] + window_seconds]
        ratio = hit_ratio(window)
        if ratio is not None and ratio >= 0.95 * baseline and window[-1]["at"] - bucket["at"] >= window_seconds / 2:
            result["recovered_after_seconds"] = round(bucket["at"] - redis_back, 2)
            result["hit_ratio_then"] = _round(ratio)
            break
    return result


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def max_error_free_users(step_summaries: list[dict[str, Any]]) -> int:
    """The highest step reached with no error in it or in any step before it (0 if the first step failed)."""
    reached = 0
    for summary in step_summaries:
        if summary["errors"] or not summary["requests"]:
            break
        reached = summary["users"]
    return reached
