"""Processes the benchmark starts on this machine (servers, the app, load generators), stopped by PID, and
a sampler of the CPU they and everything else use."""

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0


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
    # Through a pipe that a thread copies to the log file, as a container runtime reads a container's stdout:
    # a process that writes its logs synchronously feels the reader's pace, as it would in production.
    piped: bool = False
    cwd: Path = REPO_ROOT
    process: subprocess.Popen[bytes] | None = None
    _copier: threading.Thread | None = None

    def start(self, ready: Callable[[], bool]) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdout=subprocess.PIPE if self.piped else log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        if self.piped:
            self._copier = threading.Thread(target=self._copy_output, daemon=True)
            self._copier.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            if ready():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start; see {self.log_path}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
        if self._copier is not None:
            self._copier.join(timeout=STOP_TIMEOUT_SECONDS)
            self._copier = None

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not running"
        return self.process.pid

    def _copy_output(self) -> None:
        process = self.process
        assert process is not None
        assert process.stdout is not None
        with self.log_path.open("ab") as log:
            for line in process.stdout:
                log.write(line)


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


def process_tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process, its live children, and its children that already
    exited and were reaped (gunicorn reaps recycled workers, so their time is counted in the master's)."""
    root = psutil.Process(pid)
    times = root.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in root.children(recursive=True):
        try:
            child_times = child.cpu_times()
        except psutil.Error:
            continue
        total += child_times.user + child_times.system
    return total
