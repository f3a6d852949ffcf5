"""The capacity run: how many requests a second one vCPU of the app serves for the traffic model's endpoint mix,
within the production goal (p95 < 200 ms, no error). The figure the fleet is sized with
(infra/capacity/throughput.py).

    python -m bench.compare --modes capacity                         # tier A's mix; writes build/bench/compare.json
    python -m bench.compare --modes capacity --step-seconds 5 --capacity-steps 2,4,8   # a quick check

What it does, on this machine, against the real server (gunicorn with the app's config, two workers), the real
Redis and the MongoDB wire-protocol test server (SecantusDB), all on 127.0.0.1:
1. each endpoint class of the model alone (cached read, database read, write, upload presign), closed loop:
   the CPU each request costs the app, the test database and Redis, measured as CPU time of their process
   trees over the requests served (not from a rate, so the load generator sharing the cores does not bias it),
   and each class's response size and X-Cache answers;
2. the model's mix (the tier's `mix` shares), closed loop, users stepped up: at each step the rate, p95,
   errors, the app's CPU per request, the load generator's own CPU and the machine's.

The figure: requests per app CPU-second, i.e. what one vCPU serves when fully busy, at the steps of the mix that
kept p95 < 200 ms with no error: their median, so that one step disturbed by the machine's other tenants does not
make it. The sizing then plans for 70% of it (the seed's CPU < 70%).

Which part is the app's own cost: only the app's process tree is counted. The test database is a Python server,
far slower than mongod on Atlas: its CPU per request is reported apart (`database_cpu_us_per_request`) and is
not the app's, since on AWS it runs on Atlas's nodes. It still competes with the app for this machine's cores
and lengthens the database paths' latency, so the rates here are lower bounds; the CPU per request is not.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt

from bench.processes import REPO_ROOT, Background, CpuSampler, http_ok, process_tree_cpu_seconds, running
from bench.scenario import DEFAULT_USER_PREFIX, MODEL_CLASSES

if TYPE_CHECKING:
    from bench.compare import Bench

GOAL_P95_MS = 200.0
CLASS_USERS = 4
"""Closed-loop users for each class alone: enough to keep both workers busy, few enough to stay within the goal."""
DEFAULT_STEPS = "2,4,8,16,32"
MIX_SCALE = 10_000
"""The model's shares (0.0013 and up) as whole locust weights."""
ACCESS_LINE_MARKER = '"app.access"'


def bearer_token(secret: str, user_id: str) -> str:
    """A token the app accepts (HS256, JWT_SECRET, `sub` and `exp`), as Contentry's auth would issue it."""
    claims = {"sub": user_id, "exp": datetime.now(UTC) + timedelta(hours=6)}
    return jwt.encode(claims, secret, algorithm="HS256")


def mix_weights(tier: str) -> dict[str, int]:
    """The tier's endpoint mix as locust weights, from the traffic model file the fleet is sized with."""
    from infra.capacity.traffic import EndpointClass, traffic_model

    mix = traffic_model(tier).document.mix
    return {endpoint.value: int(mix.of(endpoint).value * MIX_SCALE) for endpoint in EndpointClass}


def _cpu(processes: dict[str, Background]) -> dict[str, float]:
    return {name: process_tree_cpu_seconds(process.pid) for name, process in processes.items()}


def _access_line_bytes(log_path: Path) -> float | None:
    """Mean size of the app's JSON access lines (with the newline), as a log shipper sends them."""
    lines = [line for line in log_path.read_text(errors="replace").splitlines() if ACCESS_LINE_MARKER in line]
    return round(statistics.mean(len(line.encode()) + 1 for line in lines), 1) if lines else None


class CapacityRun:
    def __init__(self, bench: Bench, mongo: Background) -> None:
        self.bench = bench
        self.mongo = mongo
        self.secret = secrets.token_urlsafe(48)
        self.token = bearer_token(self.secret, f"{DEFAULT_USER_PREFIX}0")

    def measure(self, app: Background, label: str, weights: dict[str, int], users: int) -> dict[str, Any]:
        """One closed-loop run of `users` users with `weights`, against the already running app."""
        bench = self.bench
        base_url = f"http://127.0.0.1:{app.env['BENCH_PORT']}"
        command = bench.load_command(base_url, label, steps=str(users), think_time="0", scenario="model")
        env = {
            **bench.load_env(),
            "BENCH_MIX": ",".join(f"{name}={weight}" for name, weight in weights.items()),
            "BENCH_BEARER_TOKEN": self.token,
        }
        processes = {"app": app, "database": self.mongo, "redis": bench.redis}
        load_before = os.getloadavg()[0]
        with CpuSampler() as machine:
            before = _cpu(processes)
            subprocess.run(command, cwd=REPO_ROOT, env=env, check=True, timeout=bench.args.step_seconds + 180)
            used = {name: seconds - before[name] for name, seconds in _cpu(processes).items()}
        report = json.loads((bench.workdir / f"{label}.json").read_text())
        step = report["steps"][0]
        requests = step["requests"] or 0

        def per_request(seconds: float) -> float | None:
            return round(seconds / requests * 1e6, 1) if requests else None

        return {
            "users": users,
            "rps": step["rps"],
            "p95_ms": step["p95_ms"],
            "requests": requests,
            "errors": step["errors"],
            "within_goal": bool(requests) and not step["errors"] and (step["p95_ms"] or 0) < GOAL_P95_MS,
            "app_cpu_us_per_request": per_request(used["app"]),
            "database_cpu_us_per_request": per_request(used["database"]),
            "redis_cpu_us_per_request": per_request(used["redis"]),
            "app_cores_busy": round(used["app"] / step["seconds"], 2) if step["seconds"] else None,
            "generator_cpu_percent_of_one_core": step["generator_cpu_percent_of_one_core"],
            "machine_cpu_percent": step["machine_cpu_percent"],
            "other_processes_percent_of_one_core": machine.summary()["other_processes_percent_of_one_core"],
            "load_average_1m_before": round(load_before, 2),
            "endpoints": {
                name: {
                    key: endpoint[key]
                    for key in ("requests", "rps", "p50_ms", "p95_ms", "errors", "mean_response_bytes", "cache_sources")
                }
                for name, endpoint in step["endpoints"].items()
            },
        }

    def run(self) -> dict[str, Any]:
        bench, args = self.bench, self.bench.args
        weights = mix_weights(args.capacity_tier)
        app = bench.serve(
            "after",
            "capacity",
            JWT_SECRET=self.secret,
            # The presign is signed locally (no call to AWS): any key pair will do, none is a real credential.
            AWS_ACCESS_KEY_ID="AKIABENCHNOTAREALKEY",
            AWS_SECRET_ACCESS_KEY=secrets.token_urlsafe(30),
        )
        base_url = f"http://127.0.0.1:{app.env['BENCH_PORT']}"
        with running(app, lambda: http_ok(f"{base_url}/api/health")):
            print("\n== capacity: each endpoint class alone, then the model's mix", flush=True)
            classes = {name: self.measure(app, f"class-{name}", {name: 1}, CLASS_USERS) for name in MODEL_CLASSES}
            steps = [
                self.measure(app, f"mix-{users}", weights, users)
                for users in (int(part) for part in args.capacity_steps.split(","))
            ]
            time.sleep(1.0)  # the access-log listener flushes ten times a second
        return summarise(args.capacity_tier, weights, classes, steps, _access_line_bytes(app.log_path))


def summarise(
    tier: str,
    weights: dict[str, int],
    classes: dict[str, dict[str, Any]],
    steps: list[dict[str, Any]],
    access_line_bytes: float | None,
) -> dict[str, Any]:
    """The figure and everything needed to judge it. Pure, so it is tested on made-up runs."""
    within = [step for step in steps if step["within_goal"] and step["app_cpu_us_per_request"]]
    chosen = max(within, key=lambda step: step["rps"] or 0, default=None)
    per_step = [round(1e6 / step["app_cpu_us_per_request"], 1) for step in within]
    figure = round(statistics.median(per_step), 1) if per_step else None
    total = sum(weights.values())
    predicted_us = sum(
        weights[name] / total * (classes[name]["app_cpu_us_per_request"] or 0) for name in weights if name in classes
    )
    database_us = sum(
        weights[name] / total * (classes[name]["database_cpu_us_per_request"] or 0)
        for name in weights
        if name in classes
    )
    return {
        "what": "requests per second one fully busy vCPU of the app serves for the tier's endpoint mix: the median "
        "over the closed-loop steps with p95 < 200 ms and no error of the requests per app CPU-second",
        "tier": tier,
        "mix_weights": weights,
        "requests_per_vcpu_second": figure,
        "requests_per_vcpu_second_each_step": {
            step["users"]: value for step, value in zip(within, per_step, strict=True)
        },
        "at_step": chosen,
        "predicted_from_classes_requests_per_vcpu_second": round(1e6 / predicted_us, 1) if predicted_us else None,
        "app_cpu_us_per_request_by_class": {name: run["app_cpu_us_per_request"] for name, run in classes.items()},
        "test_database_cpu_us_per_request_mix": round(database_us, 1),
        "response_bytes": {
            name: run["endpoints"].get(name, {}).get("mean_response_bytes") for name, run in classes.items()
        },
        "access_line_bytes": access_line_bytes,
        "classes": classes,
        "mix_steps": steps,
    }
