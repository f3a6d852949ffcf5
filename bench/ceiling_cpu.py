"""Server CPU per /api/health request: raw ASGI, one-route FastAPI and the app, interleaved, with the ratio.

    python -m bench.ceiling_cpu                         # 15 rounds of 5,000 requests per setup, ~3 minutes
    python -m bench.ceiling_cpu --baseline HEAD~3       # adds the app as it was at a commit, in the same run
    python -m bench.ceiling_cpu --tree other=../other   # adds the app of another checkout (a worktree, a copy)

A rate needs the machine to itself; CPU time much less so: on a shared machine a server that waits for a core
serves fewer requests per second, but each request still costs it about the same CPU. So each setup is served
by the production command (`gunicorn -c app/gunicorn.conf.py ...`, one worker unless --workers) and loaded in
rounds of --requests requests from --connections keep-alive connections; the CPU its process tree used during
the round (every thread: the log writer's too), divided by the requests, is one sample. The setups take turns
within every round, the order rotating each round, so a burst of load from elsewhere falls on all alike; the
median of the rounds is the figure. The client runs in this process and its CPU is not counted. The kernel
counts CPU time in 10 ms ticks: with 5,000 requests a sample moves in steps of 2 us.

--baseline REF serves `app/` as committed at REF (`git archive` into a temporary directory, with that commit's
gunicorn.conf.py and worker) beside the working tree's, so before and after come from one run; --tree
LABEL=DIR serves DIR/app (a worktree, a patched copy) the same way. /api/health needs no database: MONGO_URL and
REDIS_URL point at a closed port, as in bench/profile.py. The CPU each server uses while idle (the driver's
monitor retrying that port, timers) is printed per second, to be seen to be small next to a round's.

This complements `python -m bench.compare --modes ceiling`, the committed reference (rates and CPU at
saturation under locust, two workers); this script is the quick, noise-resistant check of the CPU ratio.
"""

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.processes import REPO_ROOT, Background, free_port, http_ok
from bench.setups import app_env

GOAL_SHARE_OF_ONE_ROUTE = 0.8
"""Issue 15: the app's /api/health at least 80% of the one-route FastAPI app, here by requests per CPU-second."""
_REQUEST = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench.ceiling_cpu\r\nAccept: */*\r\n\r\n"


@dataclass
class Setup:
    label: str
    target: str
    cwd: Path
    process: Background | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/health"


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn's master and its workers), threads included."""
    total = 0.0
    root = psutil.Process(pid)
    for process in (root, *root.children(recursive=True)):
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


async def _connection(port: int, count: int, request: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(count):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200 "):
                raise RuntimeError(f"not a 200: {head[:80]!r}")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
    finally:
        writer.close()


async def load(port: int, requests: int, connections: int, request: bytes) -> None:
    """Closed loop: `connections` keep-alive connections, each sending its share of requests one at a time."""
    share, extra = divmod(requests, connections)
    await asyncio.gather(
        *(_connection(port, share + (1 if index < extra else 0), request) for index in range(connections))
    )


def extract_app(ref: str, into: Path) -> Path:
    """`app/` as committed at ref, in a directory of its own to serve it from."""
    archive = into / "app.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", "--format=tar", ref, "app"], cwd=REPO_ROOT, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"


def serve(setup: Setup, workers: int, workdir: Path) -> None:
    setup.port = free_port()
    closed = free_port()  # nothing listens: /api/health never touches MongoDB or Redis
    argv = [sys.executable, "-m", "gunicorn", "-c", "app/gunicorn.conf.py", setup.target]
    env = app_env(
        f"mongodb://127.0.0.1:{closed}/bench",
        f"redis://127.0.0.1:{closed}/0",
        GUNICORN_WORKERS=str(workers),
        GUNICORN_BIND=f"127.0.0.1:{setup.port}",
        PYTHONPATH=str(setup.cwd),
    )
    setup.process = Background(setup.label, argv, workdir / f"{setup.label}.log", env, cwd=setup.cwd)
    setup.process.start(lambda: http_ok(setup.url))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ceiling_cpu", description="Server CPU per /api/health request, interleaved."
    )
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=5000, help="per setup and round")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers per setup")
    parser.add_argument("--baseline", metavar="REF", help="also serve app/ as committed at this git ref")
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="LABEL=DIR",
        help="also serve DIR/app under LABEL (repeatable)",
    )
    parser.add_argument(
        "--forwarded-for", action="store_true", help="send X-Forwarded-For, as the ALB does on proxied requests"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.requests < args.connections or args.connections < 1:
        parser.error("--rounds and --connections must be at least 1, --requests at least --connections")
    request = _REQUEST
    if args.forwarded_for:
        request = request.replace(b"\r\n\r\n", b"\r\nX-Forwarded-For: 203.0.113.7, 10.0.1.5\r\n\r\n")

    workdir = Path(tempfile.mkdtemp(prefix="contentry-ceiling-cpu-"))
    setups = [
        Setup("raw_asgi", "bench.ceiling_apps:raw_asgi", REPO_ROOT),
        Setup("one_route_fastapi", "bench.ceiling_apps:one_route_fastapi", REPO_ROOT),
        Setup("app", "app.main:app", REPO_ROOT),
    ]
    if args.baseline:
        setups.append(Setup(f"app@{args.baseline}", "app.main:app", extract_app(args.baseline, workdir)))
    for item in args.tree:
        label, separator, directory = item.partition("=")
        if not separator or not (Path(directory) / "app" / "main.py").is_file():
            parser.error(f"--tree {item}: expected LABEL=DIR with DIR/app/main.py")
        setups.append(Setup(label, "app.main:app", Path(directory).resolve()))
    print(f"logs: {workdir}", flush=True)
    samples: dict[str, list[float]] = {setup.label: [] for setup in setups}
    idle: dict[str, float] = {}
    try:
        for setup in setups:
            serve(setup, args.workers, workdir)
        loop = asyncio.new_event_loop()
        for setup in setups:  # warm-up: imports, first-request route compilation, connection set-up
            loop.run_until_complete(load(setup.port, 500, args.connections, request))
        pids = {setup.label: setup.process.pid for setup in setups if setup.process}
        before = {label: tree_cpu_seconds(pid) for label, pid in pids.items()}
        idle_started = time.monotonic()
        time.sleep(3)
        idle_seconds = time.monotonic() - idle_started
        idle = {label: (tree_cpu_seconds(pid) - before[label]) / idle_seconds * 1000 for label, pid in pids.items()}
        for round_ in range(args.rounds):
            shift = round_ % len(setups)
            for setup in setups[shift:] + setups[:shift]:
                started = tree_cpu_seconds(pids[setup.label])
                loop.run_until_complete(load(setup.port, args.requests, args.connections, request))
                used = tree_cpu_seconds(pids[setup.label]) - started
                samples[setup.label].append(used / args.requests * 1e6)
            print(f"round {round_ + 1}/{args.rounds}: " + ", ".join(f"{k} {v[-1]:.1f}" for k, v in samples.items()))
        loop.close()
    finally:
        for setup in setups:
            if setup.process is not None:
                setup.process.stop()
    shutil.rmtree(workdir / "tree", ignore_errors=True)

    median = {label: statistics.median(values) for label, values in samples.items()}
    print(f"\nserver CPU us per /api/health request, median of {args.rounds} rounds (quartiles), idle CPU ms/s:")
    for label, values in samples.items():
        q1, _, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
        print(f"  {label:<24} {median[label]:7.1f}   ({q1:.1f}-{q3:.1f})   idle {idle[label]:.1f}")
    one_route = median["one_route_fastapi"]
    print(f"\nrequests per CPU-second as a share of one-route FastAPI (goal >= {GOAL_SHARE_OF_ONE_ROUTE}):")
    for label in median:
        if label not in ("raw_asgi", "one_route_fastapi"):
            print(f"  {label:<24} {one_route / median[label]:.3f}   (CPU {median[label] / one_route:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
