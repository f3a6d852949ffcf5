"""Where a worker's time goes on one route: py-spy samples the app's only worker while the route is loaded.

    python -m bench.profile                     # /api/health, 20 s; writes build/bench/profile-health.txt

The output lists the functions with the most samples (inclusive: the function or anything it called) and the
collapsed stacks (`--format raw`, readable by flamegraph tools). Needs the right to ptrace the worker (root,
or CAP_SYS_PTRACE). It found, for /api/health: the access log, the request id middleware, the trailing
slash and body-limit middlewares (cheap), FastAPI's routing and response, and uvicorn's protocol.
"""

import argparse
import collections
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

from bench.processes import REPO_ROOT, Background, free_port, http_ok, running
from bench.setups import SETUPS, app_env

DEFAULT_OUT_DIR = REPO_ROOT / "build" / "bench"


def top_functions(collapsed: str, limit: int = 40) -> list[tuple[str, float]]:
    """Inclusive share of samples per function from py-spy's raw (collapsed) output: `a;b;c 12` lines."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        for frame in set(stack.split(";")):
            inclusive[frame] += samples
    return (
        [(frame, round(100 * samples / total, 1)) for frame, samples in inclusive.most_common(limit)] if total else []
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description="Profile a worker under load.")
    parser.add_argument("--setup", choices=sorted(SETUPS), default="after")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--users", type=int, default=16, help="closed-loop connections")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="contentry-profile-"))
    port = free_port()
    argv_, env = SETUPS[args.setup](port)
    # One worker, so the profile is the whole app; no database is needed for /api/health.
    env = {**env, "GUNICORN_WORKERS": "1"}
    free = free_port()
    app = Background(
        "app",
        argv_,
        workdir / "app.log",
        app_env(f"mongodb://127.0.0.1:{free}/bench", f"redis://127.0.0.1:{free}/0", **env),
    )
    base_url = f"http://127.0.0.1:{port}"
    args.out_dir.mkdir(parents=True, exist_ok=True)
    raw_path = args.out_dir / f"profile-{args.setup}-health.collapsed"
    with running(app, lambda: http_ok(f"{base_url}/api/health")):
        workers = psutil.Process(app.pid).children()
        target = workers[0].pid if workers else app.pid
        load = subprocess.Popen(
            [
                *(sys.executable, "-m", "bench.load", "--target", base_url, "--scenario", "health"),
                *("--steps", str(args.users), "--step-seconds", str(args.seconds + 5), "--think-time", "0"),
                *("--out", str(workdir / "load.json")),
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
        )
        try:
            subprocess.run(
                [
                    *(str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(target)),
                    *("--duration", str(args.seconds), "--rate", "200", "--format", "raw", "--nonblocking"),
                    *("--output", str(raw_path)),
                ],
                check=True,
                timeout=args.seconds + 60,
            )
        finally:
            load.wait(timeout=args.seconds + 120)
    lines = [f"{share:5.1f}%  {frame}" for frame, share in top_functions(raw_path.read_text())]
    summary_path = args.out_dir / f"profile-{args.setup}-health.txt"
    summary_path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nstacks: {raw_path}\nsummary: {summary_path}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
