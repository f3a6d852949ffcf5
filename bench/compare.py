"""The benchmark report: every figure side by side, measured in one run on this machine.

    python -m bench.compare                      # every mode; writes build/bench/compare.json
    python -m bench.compare --modes saturation,ceiling --step-seconds 5      # a quick partial run

Setups (each served on 127.0.0.1 against the same Redis and MongoDB wire-protocol server, started here):
- before: `uvicorn app.main:app`, one worker, readiness pinging MongoDB on every request
  (READINESS_CACHE_SECONDS=0), no Redis cache (CACHE_ENABLED=false): how the seed ran;
- after: `gunicorn -c app/gunicorn.conf.py app.main:app` with 2 uvicorn workers: this service;
- raw ASGI and one-route FastAPI (bench/ceiling_apps.py) under the same gunicorn command: the ceiling.

Modes:
- saturation: before and after, closed loop (no think time), users stepped up; each setup's highest rate
  with p95 < 200 ms and no error, and the ratio after/before;
- ceiling: /api/health alone, closed loop, on raw ASGI, one-route FastAPI and the app; the app's share of each;
- logging: after, 1,000 connections with think time, the access log on and off, the app's stdout read
  through a pipe as a container runtime reads it; p99 of each and their ratio;
- recycle: after, workers recycled every GUNICORN_MAX_REQUESTS=2000 requests under closed-loop load; errors and
  the number of recycles;
- fault: after, under load, Redis stopped for 10 s and started again on the same port; the seconds until Redis
  is used again and until the cache's hit ratio is back to its level before the outage;
- ramp (not in the default set): the earlier 100-1,000 user ramp with think time.

The load generator (locust, bench.load, one process) shares the machine's cores with the app; each figure
comes with the CPU it used (generator_cpu_percent_of_one_core) and what other processes used meanwhile.
"""

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.processes import (
    REPO_ROOT,
    Background,
    CpuSampler,
    free_port,
    http_ok,
    port_open,
    process_tree_cpu_seconds,
    running,
)
from bench.scenario import DEFAULT_USER_COUNT
from bench.setups import SETUPS, app_env, seed
from bench.stats import recovery_seconds

GOAL_P95_MS = 200.0
# A step where the load generator used this much of its one core measured the generator, not the setup.
GENERATOR_BOUND_PERCENT = 90.0
DEFAULT_OUT = REPO_ROOT / "build" / "bench" / "compare.json"
MODES = ("saturation", "ceiling", "logging", "recycle", "fault")
ALL_MODES = (*MODES, "ramp", "capacity")
CAPACITY_OUT = REPO_ROOT / "build" / "bench" / "capacity.json"
CAPACITY_USERS = 1000
"""Users with seeded posts for the capacity run: enough keys that its database reads almost always miss."""
CLOSED_LOOP_STEPS = "8,16,32,64,128"
LOGGING_STEPS = "1000"
RECYCLE_MAX_REQUESTS = 2000
FAULT_USERS = 64
FAULT_OUTAGE_SECONDS = 10.0


class Bench:
    def __init__(
        self,
        args: argparse.Namespace,
        workdir: Path,
        mongo_url: str,
        redis: Background,
        redis_url: str,
        mongo: Background | None = None,
    ):
        self.args = args
        self.mongo = mongo
        self.workdir = workdir
        self.mongo_url = mongo_url
        self.redis = redis
        self.redis_url = redis_url

    def serve(self, setup: str, label: str, *, piped: bool = False, **extra_env: str) -> Background:
        port = free_port()
        argv, env = SETUPS[setup](port)
        return Background(
            label,
            argv,
            self.workdir / f"{label}.log",
            app_env(self.mongo_url, self.redis_url, **env, **extra_env, BENCH_PORT=str(port)),
            piped=piped,
        )

    def load_command(self, base_url: str, label: str, *, steps: str, think_time: str, scenario: str) -> list[str]:
        return [
            *(sys.executable, "-m", "bench.load", "--target", base_url, "--label", label),
            *("--steps", steps, "--step-seconds", str(self.args.step_seconds)),
            *("--spawn-rate", str(self.args.spawn_rate), "--think-time", think_time, "--scenario", scenario),
            *("--out", str(self.workdir / f"{label}.json")),
        ]

    def run_load(
        self,
        setup: str,
        label: str,
        *,
        steps: str,
        think_time: str,
        scenario: str = "mix",
        piped: bool = False,
        **extra_env: str,
    ) -> dict[str, Any]:
        app = self.serve(setup, label, piped=piped, **extra_env)
        base_url = f"http://127.0.0.1:{app.env['BENCH_PORT']}"
        command = self.load_command(base_url, label, steps=steps, think_time=think_time, scenario=scenario)
        budget = len(steps.split(",")) * self.args.step_seconds + 180
        with running(app, lambda: http_ok(f"{base_url}/api/health")), CpuSampler() as cpu:
            print(f"\n== {label}: {shlex.join(app.argv[2:])}", flush=True)
            cpu_before = process_tree_cpu_seconds(app.pid)
            subprocess.run(command, cwd=REPO_ROOT, env=self.load_env(), check=True, timeout=budget)
            server_cpu = process_tree_cpu_seconds(app.pid) - cpu_before
        report = json.loads((self.workdir / f"{label}.json").read_text())
        report["machine_cpu"] = cpu.summary()
        requests = sum(step["requests"] for step in report["steps"])
        # The server's own CPU per request: unlike a rate, it does not depend on whether the load generator
        # (sharing the cores) could keep the server busy.
        report["server_cpu_seconds"] = round(server_cpu, 3)
        report["server_cpu_us_per_request"] = round(server_cpu / requests * 1e6, 1) if requests else None
        report["app_log"] = str(app.log_path)
        return report

    def load_env(self) -> dict[str, str]:
        return {**os.environ, "BENCH_USER_COUNT": str(self.args.users)}

    # The modes.
    def closed_loop(self, mode: str, labels: tuple[str, ...], scenario: str) -> dict[str, Any]:
        """Each setup's saturation point, measured --repeats times with the setups interleaved (a, b, c, then
        b, c, a, ...), so a burst of load from elsewhere on the machine hits every setup alike; the median
        rate per setup is the figure."""
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label in labels}
        for repeat in range(self.args.repeats):
            order = labels[repeat % len(labels) :] + labels[: repeat % len(labels)]
            for label in order:
                runs[label].append(
                    self.run_load(
                        label,
                        f"{mode}-{label}-{repeat + 1}",
                        steps=self.args.closed_loop_steps,
                        think_time="0",
                        scenario=scenario,
                    )
                )
        rates = {label: _median([_saturation_rps(run) for run in label_runs]) for label, label_runs in runs.items()}
        cpu = {
            label: _median([run["server_cpu_us_per_request"] for run in label_runs])
            for label, label_runs in runs.items()
        }
        return {
            "rps_median": rates,
            "server_cpu_us_per_request_median": cpu,
            "rps_each_repeat": {
                label: [_saturation_rps(run) for run in label_runs] for label, label_runs in runs.items()
            },
            "at_saturation": {label: [_point(run) for run in label_runs] for label, label_runs in runs.items()},
            "runs": runs,
        }

    def saturation(self) -> dict[str, Any]:
        measured = self.closed_loop("saturation", ("before", "after"), "mix")
        rates = measured["rps_median"]
        return {
            "what": "highest total rate (all three endpoints) with p95 < 200 ms and 0 errors, closed loop; "
            "median of the repeats",
            "ratio_after_to_before": _ratio(rates["after"], rates["before"]),
            **measured,
        }

    def ceiling(self) -> dict[str, Any]:
        measured = self.closed_loop("ceiling", ("raw_asgi", "one_route_fastapi", "after"), "health")
        rates = measured["rps_median"]
        cpu = measured["server_cpu_us_per_request_median"]
        return {
            "what": "/api/health alone, closed loop, same gunicorn config: highest rate with p95 < 200 ms and 0 "
            "errors; median of the repeats",
            "app_share_of_raw_asgi": _ratio(rates["after"], rates["raw_asgi"]),
            "app_share_of_one_route_fastapi": _ratio(rates["after"], rates["one_route_fastapi"]),
            # Requests per CPU second, the app's against each: the same comparison without the load generator.
            "app_share_of_raw_asgi_by_cpu": _ratio(cpu["raw_asgi"], cpu["after"]),
            "app_share_of_one_route_fastapi_by_cpu": _ratio(cpu["one_route_fastapi"], cpu["after"]),
            **measured,
        }

    def logging(self) -> dict[str, Any]:
        states = ("off", "on")
        runs: dict[str, list[dict[str, Any]]] = {state: [] for state in states}
        for repeat in range(self.args.repeats):
            for state in states if repeat % 2 == 0 else tuple(reversed(states)):
                runs[state].append(
                    self.run_load(
                        "after",
                        f"logging-{state}-{repeat + 1}",
                        steps=self.args.logging_steps,
                        think_time="0.5:1.5",
                        piped=True,
                        ACCESS_LOG_ENABLED="true" if state == "on" else "false",
                    )
                )
        p99 = {state: _median([_overall_p99(run) for run in state_runs]) for state, state_runs in runs.items()}
        last_on = runs["on"][-1]
        lines = sum(1 for line in Path(last_on["app_log"]).read_text().splitlines() if '"app.access"' in line)
        return {
            "what": f"after setup, {self.args.logging_steps} connections with 0.5-1.5 s think time, stdout through "
            "a pipe; worst endpoint's p99 over the last step, median of the repeats",
            "p99_ms": p99,
            "p99_ms_each_repeat": {s: [_overall_p99(run) for run in state_runs] for s, state_runs in runs.items()},
            "ratio_on_to_off": _ratio(p99["on"], p99["off"]),
            "errors": {state: sum(run["peak"]["errors"] for run in state_runs) for state, state_runs in runs.items()},
            "access_lines_written_with_logging_on": lines,
            "requests_with_logging_on": sum(step["requests"] for step in last_on["steps"]),
            "runs": runs,
        }

    def recycle(self) -> dict[str, Any]:
        run = self.run_load(
            "after",
            "recycle",
            steps="64",
            think_time="0",
            GUNICORN_MAX_REQUESTS=str(RECYCLE_MAX_REQUESTS),
            GUNICORN_MAX_REQUESTS_JITTER=str(RECYCLE_MAX_REQUESTS // 2),
        )
        log = Path(run["app_log"]).read_text()
        return {
            "what": f"after setup, workers recycled every {RECYCLE_MAX_REQUESTS}-{RECYCLE_MAX_REQUESTS * 3 // 2} "
            "requests, 64 closed-loop connections",
            "recycles": log.count("Maximum request limit"),
            "requests": run["peak"]["requests"],
            "errors": run["peak"]["errors"],
            "error_kinds": {
                name: endpoint["error_kinds"]
                for name, endpoint in run["peak"]["endpoints"].items()
                if endpoint["errors"]
            },
            "run": run,
        }

    def fault(self) -> dict[str, Any]:
        label = "fault"
        app = self.serve("after", label)
        base_url = f"http://127.0.0.1:{app.env['BENCH_PORT']}"
        warmup = self.args.step_seconds
        total = warmup + FAULT_OUTAGE_SECONDS + 2 * self.args.step_seconds
        command = [
            *self.load_command(base_url, label, steps=str(FAULT_USERS), think_time="0", scenario="mix"),
            "--cache-timeline",
        ]
        command[command.index("--step-seconds") + 1] = str(total)
        with running(app, lambda: http_ok(f"{base_url}/api/health")), CpuSampler() as cpu:
            print(f"\n== {label}: Redis stopped for {FAULT_OUTAGE_SECONDS:.0f} s under load", flush=True)
            load = subprocess.Popen(command, cwd=REPO_ROOT, env=self.load_env())
            try:
                time.sleep(warmup)
                outage_start = time.time()
                self.redis.stop()
                time.sleep(FAULT_OUTAGE_SECONDS)
                self.redis.start(lambda: port_open(int(self.redis_url.rsplit(":", 1)[1].split("/")[0])))
                redis_back = time.time()  # accepting connections: start() returned once the port answered
                load.wait(timeout=total + 180)
            finally:
                if load.poll() is None:
                    os.kill(load.pid, signal.SIGTERM)
                    load.wait(timeout=30)
        report = json.loads((self.workdir / f"{label}.json").read_text())
        series = report.pop("cache_timeline")
        used_again = next(
            (b["at"] for b in series if b["at"] >= redis_back and (b.get("hit", 0) or b.get("miss", 0))), None
        )
        return {
            "what": f"after setup, {FAULT_USERS} closed-loop connections, Redis stopped for "
            f"{FAULT_OUTAGE_SECONDS:.0f} s and restarted empty on the same port",
            "redis_used_again_after_seconds": None
            if used_again is None
            else round(max(0.0, used_again - redis_back), 2),
            **recovery_seconds(series, outage_start=outage_start, redis_back=redis_back),
            "errors": report["peak"]["errors"],
            "cache_timeline": [{**b, "at": round(b["at"] - outage_start, 2)} for b in series],
            "machine_cpu": cpu.summary(),
            "run": report,
        }

    def capacity(self) -> dict[str, Any]:
        """Requests per second per vCPU for the traffic model's endpoint mix (bench/capacity.py)."""
        from bench.capacity import CapacityRun

        assert self.mongo is not None, "the capacity run measures the test database's CPU too"
        return CapacityRun(self, self.mongo).run()

    def ramp(self) -> dict[str, Any]:
        return {
            label: self.run_load(label, f"ramp-{label}", steps="100,250,500,750,1000", think_time="0.5:1.5")
            for label in ("before", "after")
        }


def _saturation_rps(run: dict[str, Any]) -> float | None:
    return run["saturation"]["rps"] if run["saturation"] else None


def _median(values: list[float | None]) -> float | None:
    known = sorted(value for value in values if value is not None)
    return statistics.median(known) if known else None


def _point(run: dict[str, Any]) -> dict[str, Any] | None:
    point = run["saturation"]
    if point is None:
        return None
    return {
        **{
            key: point[key]
            for key in ("users", "rps", "p95_ms", "errors", "machine_cpu_percent", "generator_cpu_percent_of_one_core")
        },
        "generator_bound": _generator_bound(point),
    }


def _generator_bound(point: dict[str, Any]) -> bool:
    return (point.get("generator_cpu_percent_of_one_core") or 0) >= GENERATOR_BOUND_PERCENT


def _overall_p99(run: dict[str, Any]) -> float | None:
    endpoints = run["peak"]["endpoints"]
    return max((endpoint["p99_ms"] or 0 for endpoint in endpoints.values()), default=None)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator and denominator else None


def summary(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The figures the issue asks for, one line each."""
    rows: list[tuple[str, str]] = []
    if "saturation" in result:
        s = result["saturation"]
        rates = s["rps_median"]
        rows.append(("saturation rps (median), before -> after", f"{rates['before']} -> {rates['after']}"))
        rows.append(("  ratio (goal >= 3x)", f"{s['ratio_after_to_before']}"))
        rows.extend(_points(s, "saturation"))
    if "ceiling" in result:
        c = result["ceiling"]
        rates = c["rps_median"]
        rows.append(
            ("/api/health rps (median): raw ASGI, one-route FastAPI, app", ", ".join(str(v) for v in rates.values()))
        )
        rows.append(("  app / raw ASGI", f"{c['app_share_of_raw_asgi']}"))
        rows.append(("  app / one-route FastAPI (goal >= 0.8)", f"{c['app_share_of_one_route_fastapi']}"))
        cpu = c.get("server_cpu_us_per_request_median")
        if cpu:
            rows.append(
                ("server CPU us per request: raw ASGI, one-route FastAPI, app", ", ".join(str(v) for v in cpu.values()))
            )
            rows.append(("  requests per CPU second, app / raw ASGI", f"{c['app_share_of_raw_asgi_by_cpu']}"))
            rows.append(
                (
                    "  requests per CPU second, app / one-route FastAPI (goal >= 0.8)",
                    f"{c['app_share_of_one_route_fastapi_by_cpu']}",
                )
            )
        rows.extend(_points(c, "ceiling"))
    if "logging" in result:
        g = result["logging"]
        users = g["runs"]["on"][-1]["peak"]["users"]
        rows.append((f"p99 ms at {users} connections, log off -> on", f"{g['p99_ms']['off']} -> {g['p99_ms']['on']}"))
        rows.append(("  ratio (goal <= 1.5)", f"{g['ratio_on_to_off']}"))
        each = g["p99_ms_each_repeat"]
        rows.append(("  p99 ms each repeat, off; on", f"{each['off']}; {each['on']}"))
        rows.append(("  errors, off; on", f"{g['errors']['off']}; {g['errors']['on']}"))
        rows.append(
            (
                "  access lines / requests measured (last run, + the bench's polls)",
                f"{g['access_lines_written_with_logging_on']} / {g['requests_with_logging_on']}",
            )
        )
    if "recycle" in result:
        r = result["recycle"]
        rows.append(("worker recycles, requests, errors (goal 0)", f"{r['recycles']}, {r['requests']}, {r['errors']}"))
    if "fault" in result:
        f = result["fault"]
        rows.append(("Redis used again after restart, s", f"{f['redis_used_again_after_seconds']}"))
        rows.append(("hit ratio back to pre-outage level after, s (goal <= 5)", f"{f['recovered_after_seconds']}"))
        rows.append(("  baseline hit ratio; errors during the outage", f"{f['baseline_hit_ratio']}; {f['errors']}"))
    if "capacity" in result:
        c = result["capacity"]
        step = c["at_step"] or {}
        figure = c["requests_per_vcpu_second"]
        rows.append((f"requests per vCPU-second, tier {c['tier']}'s mix (p95 < 200 ms), median", f"{figure}"))
        rows.append(("  each step within the goal (users: figure)", f"{c['requests_per_vcpu_second_each_step']}"))
        rows.append(("  predicted from the classes alone", f"{c['predicted_from_classes_requests_per_vcpu_second']}"))
        rows.append(
            (
                "  busiest step: users, rps, p95 ms, generator % of a core, others % of a core",
                f"{step.get('users')}, {step.get('rps')}, {step.get('p95_ms')}, "
                f"{step.get('generator_cpu_percent_of_one_core')}, {step.get('other_processes_percent_of_one_core')}",
            )
        )
        rows.append(("  app CPU us per request by class", f"{c['app_cpu_us_per_request_by_class']}"))
        database = c["test_database_cpu_us_per_request_mix"]
        rows.append(("  test database CPU us per request (mix, not the app's)", f"{database}"))
        rows.append(("  response bytes by class", f"{c['response_bytes']}"))
        rows.append(("  access line bytes", f"{c['access_line_bytes']}"))
    return rows


def _points(measured: dict[str, Any], mode: str) -> list[tuple[str, str]]:
    rows = []
    for label, points in measured["at_saturation"].items():
        text = "; ".join(
            f"{p['rps']} rps at {p['users']} users, p95 {p['p95_ms']} ms, "
            f"generator {p['generator_cpu_percent_of_one_core']}%{' (generator-bound)' if _generator_bound(p) else ''}"
            for p in points
            if p
        )
        rows.append((f"  {mode} {label}, each repeat", text or "no step within the goal"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description="The benchmark report.")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, from {', '.join(ALL_MODES)}")
    parser.add_argument("--step-seconds", type=float, default=10.0, help="how long each load step is held")
    parser.add_argument("--repeats", type=int, default=3, help="saturation, ceiling and logging runs, interleaved")
    parser.add_argument("--closed-loop-steps", default=CLOSED_LOOP_STEPS, help="users per step, no think time")
    parser.add_argument("--logging-steps", default=LOGGING_STEPS, help="users per step for the logging mode")
    parser.add_argument("--spawn-rate", type=float, default=200.0)
    parser.add_argument(
        "--users",
        type=int,
        default=None,
        help=f"users with seeded posts (default {DEFAULT_USER_COUNT}; {CAPACITY_USERS} with the capacity mode)",
    )
    parser.add_argument("--capacity-tier", default="A", choices=("A", "B", "C"), help="whose traffic model's mix")
    parser.add_argument(
        "--capacity-steps", default="2,4,8,16,32", help="closed-loop users per step of the capacity run's mix"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"the JSON report (default {DEFAULT_OUT.relative_to(REPO_ROOT)}, or {CAPACITY_OUT.relative_to(REPO_ROOT)}"
        " for the capacity mode alone; committed references: bench/results/)",
    )
    args = parser.parse_args(argv)
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    unknown = sorted(set(modes) - set(ALL_MODES))
    if unknown:
        parser.error(f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(ALL_MODES)}")
    if args.out is None:
        args.out = CAPACITY_OUT if modes == ["capacity"] else DEFAULT_OUT
    if args.users is None:
        args.users = CAPACITY_USERS if "capacity" in modes else DEFAULT_USER_COUNT
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        parser.error("redis-server is not installed (Debian package redis-server)")

    workdir = Path(tempfile.mkdtemp(prefix="contentry-bench-"))
    print(f"logs and partial reports: {workdir}")
    mongo_port, redis_port = free_port(), free_port()
    mongo_url = f"mongodb://127.0.0.1:{mongo_port}/contentry_bench"
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    mongo = Background(
        "mongodb",
        [
            *(sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(mongo_port)),
            *("--storage-path", str(workdir / "mongo-data"), "--log-level", "WARNING"),
        ],
        workdir / "mongo.log",
    )
    redis = Background(
        "redis",
        [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        workdir / "redis.log",
    )
    started = datetime.now(UTC)
    load_at_start = [round(value, 2) for value in os.getloadavg()]
    result: dict[str, Any] = {}
    with running(mongo, lambda: port_open(mongo_port)), running(redis, lambda: port_open(redis_port)):
        seed(mongo_url, "contentry_bench", args.users)
        bench = Bench(args, workdir, mongo_url, redis, redis_url, mongo)
        for mode in modes:
            result[mode] = getattr(bench, mode)()

    report = {
        "command": shlex.join(["python", "-m", "bench.compare", *(argv if argv is not None else sys.argv[1:])]),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": load_at_start,
            "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        },
        "goal": {"p95_ms_below": GOAL_P95_MS, "errors": 0},
        "summary": dict(summary(result)),
        **result,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print_summary(report)
    print(f"\nreport: {args.out}")
    return 0


def print_summary(report: dict[str, Any]) -> None:
    print("\n" + "\n".join(f"{name:<58} {value}" for name, value in report["summary"].items()))


if __name__ == "__main__":
    sys.exit(main())
