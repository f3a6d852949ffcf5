"""Side by side on this machine: the seed's setup ("before") and this service's ("after"), same data, same load.

    python -m bench.compare --out bench/results/compare.json

- before: `uvicorn app.main:app`, one worker, readiness pinging MongoDB on every request
  (READINESS_CACHE_SECONDS=0), no Redis cache (CACHE_ENABLED=false): how the seed ran.
- after: `gunicorn -c app/gunicorn.conf.py app.main:app` with 2 uvicorn workers, readiness answers reused for
  a second, reads cached in Redis.
Both use one Redis (Debian's redis-server) and one MongoDB wire-protocol server (SecantusDB), started here on
127.0.0.1 and stopped by PID, with the same seeded posts. Each setup gets the same locust step ramp
(bench.load, run as a subprocess). Everything listens on and is loaded through loopback only.
"""

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from pymongo import MongoClient

from bench.scenario import DEFAULT_USER_COUNT, DEFAULT_USER_PREFIX, ENDPOINTS

REPO_ROOT = Path(__file__).resolve().parents[1]
POSTS_PER_USER = 30
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0
GOAL_P95_MS = 200.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a loopback URL built here
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Background:
    """A process started here and stopped by its PID."""

    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    process: subprocess.Popen[bytes] | None = None

    def start(self, ready: Callable[[], bool]) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            if ready():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start; see {self.log_path}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_SECONDS)


class CpuSampler:
    """Samples, once a second, the CPU used by this run's processes and by everything else on the machine.

    The benchmark shares the machine's cores with whatever else runs on it; the report says how much that was,
    so figures taken while something else was busy are not mistaken for the service's own."""

    def __init__(self) -> None:
        self.ours: list[float] = []
        self.others: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._processes: dict[int, psutil.Process] = {}

    def __enter__(self) -> "CpuSampler":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _sample(self) -> None:
        me = os.getpid()
        while not self._stop.wait(1.0):
            ours = {me} | {child.pid for child in psutil.Process(me).children(recursive=True)}
            used = {"ours": 0.0, "others": 0.0}
            for process in psutil.process_iter():
                known = self._processes.setdefault(process.pid, process)
                try:
                    percent = known.cpu_percent(interval=None)
                except psutil.Error:
                    continue
                used["ours" if process.pid in ours else "others"] += percent
            self.ours.append(used["ours"])
            self.others.append(used["others"])

    def summary(self) -> dict[str, float | None]:
        def mean(values: list[float]) -> float | None:
            # The first sample of each process is meaningless (no interval yet); skip the first second.
            usable = values[1:]
            return round(sum(usable) / len(usable), 1) if usable else None

        return {
            "this_run_percent_of_one_core": mean(self.ours),
            "other_processes_percent_of_one_core": mean(self.others),
        }


@contextmanager
def running(background: Background, ready: Callable[[], bool]) -> Iterator[Background]:
    background.start(ready)
    try:
        yield background
    finally:
        background.stop()


def seed(mongo_url: str, database: str, users: int) -> None:
    """Posts for bench-user-0..N-1, and the indexes, through the same CLI a deployment uses."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url, serverSelectionTimeoutMS=5000)
    try:
        posts = client[database].posts
        posts.delete_many({})
        now = datetime.now(UTC)
        for user in range(users):
            posts.insert_many(
                [
                    {
                        "user_id": f"{DEFAULT_USER_PREFIX}{user}",
                        "enterprise_id": f"enterprise-{user % 10}",
                        "content": f"Post {index} of user {user}: " + "lorem ipsum " * 10,
                        "status": "published",
                        "created_at": now - timedelta(hours=index),
                    }
                    for index in range(POSTS_PER_USER)
                ]
            )
    finally:
        client.close()
    env = {**os.environ, "MONGO_URL": mongo_url}
    subprocess.run([sys.executable, "-m", "app.indexes"], cwd=REPO_ROOT, env=env, check=True, timeout=120)


def app_env(mongo_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GUNICORN_", "WEB_CONCURRENCY"))}
    env.update(
        {
            "APP_ENV": "production",
            "MONGO_URL": mongo_url,
            "REDIS_URL": redis_url,
            # Fresh random secrets: production mode refuses placeholders, and these are never written anywhere.
            "JWT_SECRET": secrets.token_urlsafe(48),
            "HEALTH_DETAILED_TOKEN": secrets.token_urlsafe(48),
            "S3_BUCKET": "contentry-bench",
            "AWS_REGION": "us-east-1",
            "CDN_DOMAIN": "",
            "CREATE_INDEXES_ON_STARTUP": "false",
        }
    )
    env.update(extra)
    return env


def setup_command(label: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The command and extra environment of each setup, listening on 127.0.0.1:port."""
    if label == "before":
        command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)]
        return [*command, "--workers", "1"], {"READINESS_CACHE_SECONDS": "0", "CACHE_ENABLED": "false"}
    command = [sys.executable, "-m", "gunicorn", "-c", "app/gunicorn.conf.py", "app.main:app"]
    return command, {"GUNICORN_WORKERS": "2", "GUNICORN_BIND": f"127.0.0.1:{port}"}


def load(target: str, label: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    out = workdir / f"{label}.json"
    command = [
        sys.executable,
        "-m",
        "bench.load",
        "--target",
        target,
        "--label",
        label,
        "--steps",
        args.steps,
        "--step-seconds",
        str(args.step_seconds),
        "--spawn-rate",
        str(args.spawn_rate),
        "--think-time",
        args.think_time,
        "--out",
        str(out),
    ]
    budget = len(args.steps.split(",")) * args.step_seconds + 180
    env = {**os.environ, "BENCH_USER_COUNT": str(args.users)}
    subprocess.run(command, cwd=REPO_ROOT, env=env, check=True, timeout=budget)
    return json.loads(out.read_text())


def goal_check(report: dict[str, Any]) -> dict[str, Any]:
    peak = report["peak"]
    endpoints = peak["endpoints"]
    return {
        "users": peak["users"],
        "no_errors": peak["errors"] == 0,
        "p95_under_200ms": {name: (endpoints.get(name, {}).get("p95_ms") or 1e9) < GOAL_P95_MS for name in ENDPOINTS},
    }


def print_side_by_side(before: dict[str, Any], after: dict[str, Any]) -> None:
    print(f"\nAt {after['peak']['users']} concurrent users (the last step), before -> after:")
    header = f"{'endpoint':<26} {'rps':>15} {'p50 ms':>15} {'p95 ms':>15} {'p99 ms':>17} {'errors':>13}"
    print(header)
    for name in ENDPOINTS:
        b = before["peak"]["endpoints"].get(name, {})
        a = after["peak"]["endpoints"].get(name, {})
        cells = [f"{b.get(key)} -> {a.get(key)}" for key in ("rps", "p50_ms", "p95_ms", "p99_ms", "errors")]
        print(f"{name:<26} {cells[0]:>15} {cells[1]:>15} {cells[2]:>15} {cells[3]:>17} {cells[4]:>13}")
    print(
        f"{'all':<26} {str(before['peak']['rps']) + ' -> ' + str(after['peak']['rps']):>15}"
        f"{'':>49} {str(before['peak']['errors']) + ' -> ' + str(after['peak']['errors']):>13}"
    )
    print(
        "highest concurrency with no errors: "
        f"before {before['max_error_free_users']}, after {after['max_error_free_users']} users"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description="Seed setup vs this service.")
    parser.add_argument("--steps", default="100,250,500,750,1000")
    parser.add_argument("--step-seconds", type=float, default=20.0)
    parser.add_argument("--spawn-rate", type=float, default=100.0)
    parser.add_argument("--think-time", default="0.5:1.5")
    parser.add_argument("--users", type=int, default=DEFAULT_USER_COUNT, help="users with seeded posts")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results" / "compare.json")
    args = parser.parse_args(argv)

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
    reports: dict[str, dict[str, Any]] = {}
    with running(mongo, lambda: port_open(mongo_port)), running(redis, lambda: port_open(redis_port)):
        seed(mongo_url, "contentry_bench", args.users)
        for label in ("before", "after"):
            port = free_port()
            argv, extra_env = setup_command(label, port)
            app = Background(label, argv, workdir / f"{label}.log", app_env(mongo_url, redis_url, **extra_env))
            base_url = f"http://127.0.0.1:{port}"
            with running(app, lambda base_url=base_url: http_ok(f"{base_url}/api/health")), CpuSampler() as cpu:
                print(f"\n== {label}: {' '.join(argv[2:])}")
                reports[label] = load(base_url, label, args, workdir)
            reports[label]["machine_cpu"] = cpu.summary()
            print(f"CPU during the run: {reports[label]['machine_cpu']}")

    result = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "setups": {
            "before": "uvicorn, 1 worker, readiness pings MongoDB on every request, no Redis cache",
            "after": "gunicorn + 2 uvicorn workers, readiness cached 1 s, Redis cache with single-flight",
        },
        "data": {"users_with_posts": args.users, "posts_per_user": POSTS_PER_USER},
        "goal": {"users": 1000, "errors": 0, "p95_ms_below": GOAL_P95_MS, "endpoints": list(ENDPOINTS)},
        "goal_check": {label: goal_check(report) for label, report in reports.items()},
        "before": reports["before"],
        "after": reports["after"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print_side_by_side(reports["before"], reports["after"])
    print(f"\nreport: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
