"""Headless load test with a step ramp and a JSON report.

    python -m bench.load --target http://127.0.0.1:8000 --steps 100,250,500,750,1000 --step-seconds 20 \
        --out bench/results/local.json

Users are added step by step (each user holds one keep-alive connection, so users = concurrent connections)
and each step is held for --step-seconds. The report gives, per step and per endpoint: requests per second,
p50/p95/p99 latency and the error rate, and the highest step reached with no error at all.

--think-time 0 makes it closed-loop: each user sends its next request as soon as the last one is answered,
so the offered load is whatever the app (or this generator: see generator_cpu_percent_of_one_core) can take,
and the step with the highest rate under the p95 bound is the setup's saturation point. --scenario health
requests /api/health only; --cache-timeline records the cached read's X-Cache answers over wall time.

Only loopback targets are accepted unless --allow-remote is given: load is sent only to systems you run.
"""

# locust patches the standard library for gevent when imported; it must come before anything that uses
# sockets or threads.
import locust  # noqa: I001

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gevent
import psutil
from locust import LoadTestShape
from locust.env import Environment
from locust.runners import STATE_CLEANUP, STATE_STOPPED

from locust import between

from bench.locustfile import USER_CLASSES
from bench.options import parse_steps, parse_think_time, require_loopback
from bench.scenario import ENDPOINTS, MODEL_CLASSES, POSTS, THINK_TIME_SECONDS
from bench.stats import CacheTimeline, Step, max_error_free_users, saturation_point

GOAL_P95_MS = 200.0

DEFAULT_STEPS = (100, 250, 500, 750, 1000)
# Added at the end of the planned run before the load test is cut off whatever state it is in.
HARD_STOP_MARGIN_SECONDS = 60


class StepShape(LoadTestShape):
    """Hold each user count for step_seconds; stop after the last step."""

    abstract = False

    def __init__(self, steps: tuple[int, ...], step_seconds: float, spawn_rate: float) -> None:
        super().__init__()
        self.steps = steps
        self.step_seconds = step_seconds
        self.spawn_rate = spawn_rate

    def step_index(self) -> int | None:
        index = int(self.get_run_time() // self.step_seconds)
        return index if index < len(self.steps) else None

    def tick(self) -> tuple[int, float] | None:
        index = self.step_index()
        return None if index is None else (self.steps[index], self.spawn_rate)


class StepRecorder:
    """Files every request under the step that was running when it completed."""

    def __init__(self, shape: StepShape) -> None:
        self.shape = shape
        self.steps: list[Step] = []

    def current(self) -> Step | None:
        index = self.shape.step_index()
        if index is None:
            return None
        while len(self.steps) <= index:
            now = time.monotonic()
            if self.steps:
                self.steps[-1].ended = now
            self.steps.append(Step(users=self.shape.steps[len(self.steps)], started=now))
        return self.steps[index]

    def on_request(
        self,
        name: str,
        response_time: float,
        exception: BaseException | None = None,
        response_length: int | None = None,
        response: Any = None,
        **_: Any,
    ) -> None:
        step = self.current()
        if step is not None:
            headers = getattr(response, "headers", None)
            cache_source = headers.get("x-cache") if headers is not None else None
            step.record(name, response_time, exception, response_bytes=response_length, cache_source=cache_source)

    def sample_cpu(self, generator: psutil.Process) -> None:
        step = self.current()
        if step is not None:
            step.cpu_percent.append(psutil.cpu_percent(interval=None))
            step.generator_cpu_percent.append(generator.cpu_percent(interval=None))

    def finish(self) -> None:
        if self.steps and self.steps[-1].ended is None:
            self.steps[-1].ended = time.monotonic()


def run(
    target: str,
    *,
    steps: tuple[int, ...],
    step_seconds: float,
    spawn_rate: float,
    think_time: tuple[float, float],
    label: str,
    scenario: str = "mix",
    cache_timeline: bool = False,
) -> dict[str, Any]:
    user_class = USER_CLASSES[scenario]
    user_class.wait_time = between(*think_time)
    shape = StepShape(steps, step_seconds, spawn_rate)
    recorder = StepRecorder(shape)
    environment = Environment(user_classes=[user_class], shape_class=shape, events=locust.events, host=target)
    environment.events.request.add_listener(recorder.on_request)
    timeline = CacheTimeline()
    if cache_timeline:

        def record_cache(name: str, exception: BaseException | None = None, response: Any = None, **_: Any) -> None:
            if name != POSTS:
                return
            source = "error" if exception is not None or response is None else response.headers.get("x-cache")
            timeline.record(time.time(), source or "error")

        environment.events.request.add_listener(record_cache)
    generator = psutil.Process()
    generator.cpu_percent(interval=None)
    runner = environment.create_local_runner()
    planned = len(steps) * step_seconds
    hard_stop = time.monotonic() + planned + HARD_STOP_MARGIN_SECONDS
    started_at = datetime.now(UTC)
    psutil.cpu_percent(interval=None)  # the first reading is meaningless; start the measurement window
    runner.start_shape()
    max_users = 0
    while time.monotonic() < hard_stop and runner.state not in (STATE_STOPPED, STATE_CLEANUP):
        gevent.sleep(1.0)
        recorder.sample_cpu(generator)
        max_users = max(max_users, runner.user_count)
    runner.quit()
    recorder.finish()

    step_summaries = [step.summary() for step in recorder.steps]
    return {
        "label": label,
        "target": target,
        "started_at": started_at.isoformat(timespec="seconds"),
        "config": {
            "steps": list(steps),
            "step_seconds": step_seconds,
            "spawn_rate": spawn_rate,
            "think_time_seconds": list(think_time),
            "scenario": scenario,
            "endpoints": {"mix": list(ENDPOINTS), "model": list(MODEL_CLASSES)}.get(scenario, ["/api/health"]),
        },
        "max_users_reached": max_users,
        "max_error_free_users": max_error_free_users(step_summaries),
        "load_generator_cpu_warning": runner.cpu_warning_emitted,
        "peak": step_summaries[-1] if step_summaries else None,
        "saturation": saturation_point(step_summaries, GOAL_P95_MS),
        "steps": step_summaries,
        **({"cache_timeline": timeline.series()} if cache_timeline else {}),
    }


def print_report(report: dict[str, Any]) -> None:
    print(f"\n{report['label']}: {report['target']}")
    print(f"{'users':>6} {'endpoint':<26} {'rps':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'errors':>7}")
    for step in report["steps"]:
        for name, endpoint in step["endpoints"].items():
            print(
                f"{step['users']:>6} {name:<26} {endpoint['rps']:>8} {endpoint['p50_ms']:>7} "
                f"{endpoint['p95_ms']:>7} {endpoint['p99_ms']:>7} {endpoint['errors']:>7}"
            )
    print(f"highest concurrency with no errors: {report['max_error_free_users']} users")
    saturation = report["saturation"]
    if saturation is not None:
        print(
            f"saturation (p95 < {GOAL_P95_MS:.0f} ms, 0 errors): {saturation['rps']} rps at {saturation['users']} users"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description="Headless load test with a step ramp and a JSON report."
    )
    parser.add_argument("--target", required=True, help="base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--label", default="run", help="name for this run in the report")
    parser.add_argument("--steps", type=parse_steps, default=DEFAULT_STEPS, help="user counts, comma-separated")
    parser.add_argument("--step-seconds", type=float, default=20.0, help="how long each step is held")
    parser.add_argument("--spawn-rate", type=float, default=100.0, help="users started per second")
    parser.add_argument(
        "--think-time",
        type=parse_think_time,
        default=THINK_TIME_SECONDS,
        help="pause between one user's requests, MIN:MAX seconds",
    )
    parser.add_argument("--scenario", choices=sorted(USER_CLASSES), default="mix", help="what each user requests")
    parser.add_argument("--cache-timeline", action="store_true", help="record the cached read's X-Cache over time")
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    parser.add_argument("--allow-remote", action="store_true", help="allow a non-loopback target you operate")
    args = parser.parse_args(argv)
    if not args.allow_remote:
        require_loopback(args.target)
    if args.step_seconds <= 0 or args.step_seconds * len(args.steps) > 3600:
        parser.error("--step-seconds must be positive and the whole run at most an hour")

    report = run(
        args.target.rstrip("/"),
        steps=args.steps,
        step_seconds=args.step_seconds,
        spawn_rate=args.spawn_rate,
        think_time=args.think_time,
        label=args.label,
        scenario=args.scenario,
        cache_timeline=args.cache_timeline,
    )
    print_report(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
