"""Gunicorn settings for `gunicorn -c app/gunicorn.conf.py app.main:app`.

Gunicorn is the process manager (forks and replaces workers, handles signals); each worker is a uvicorn
asyncio event loop. Every value can be overridden from the environment, so the same image fits a 2-vCPU
instance, a 4-vCPU one and a Kubernetes pod with a CPU limit.
"""

import math
import os
from pathlib import Path

from app.core.logging import logging_config
from app.worker import ClientDeadlines

# The ALB closes idle client connections after 60 s. The app must keep its side open longer, or it may close
# a connection at the moment the ALB sends a request on it, which the client sees as a 502.
ALB_IDLE_TIMEOUT_SECONDS = 60


def _env_int(name: str, default: int, *, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = int(raw)
    if value < minimum:
        raise ValueError(f"{name}={value} must be at least {minimum}")
    return value


def available_cpus(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """CPUs this process may really use: the cgroup v2 quota (a container's CPU limit) if one is set, else the
    CPUs the process is allowed to run on. os.cpu_count() would report the host's CPUs inside a pod."""
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = cpu_max.read_text().split()
    except (OSError, ValueError):
        return max(1, allowed)
    if quota == "max":
        return max(1, allowed)
    return max(1, min(allowed, math.ceil(int(quota) / int(period))))


def default_workers() -> int:
    # One async worker per CPU: each worker already multiplexes thousands of connections on its event loop,
    # so the sync-worker rule (2 x CPU + 1) would only add memory and context switches.
    return available_cpus()


# A container listens on all its interfaces; the security groups decide who reaches the port.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _env_int("GUNICORN_WORKERS", _env_int("WEB_CONCURRENCY", default_workers(), minimum=1), minimum=1)
# uvicorn's worker with deadlines on slow clients and a recycle that drops no request (app/worker.py).
worker_class = "app.worker.ContentryUvicornWorker"
backlog = _env_int("GUNICORN_BACKLOG", 2048, minimum=64)

# A worker that does not heartbeat for this long (a blocked event loop) is killed and replaced.
timeout = _env_int("GUNICORN_TIMEOUT", 30, minimum=5)
# On SIGTERM (deploy, scale-in) workers get this long to finish in-flight requests.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=1)
keepalive = _env_int("GUNICORN_KEEPALIVE", ALB_IDLE_TIMEOUT_SECONDS + 15, minimum=ALB_IDLE_TIMEOUT_SECONDS + 1)

# Slow clients (read by the worker from the same variables; checked here so a bad value stops the master):
# GUNICORN_HEADER_TIMEOUT (10 s) from a connection's opening or a request's first byte to the end of its
# headers, GUNICORN_BODY_TIMEOUT (15 s) from there to the end of the body; both answer 408 and close.
# GUNICORN_DRAIN_SECONDS (5 s): on a recycle or a shutdown, how long an idle keep-alive connection is kept to
# answer one more request with Connection: close. The worker sends no heartbeat while it drains, so this
# must stay well under `timeout`, or gunicorn would kill the draining worker.
client_deadlines = ClientDeadlines.from_env()
if client_deadlines.drain_seconds * 2 > timeout:
    raise ValueError(f"GUNICORN_DRAIN_SECONDS={client_deadlines.drain_seconds} must be at most half GUNICORN_TIMEOUT")

# Recycle workers now and then, as a safety valve against a slow leak. A recycle drops no request: in-flight
# requests finish, and idle keep-alive connections answer their next request with Connection: close instead
# of being closed under a client that may be sending on them (GUNICORN_DRAIN_SECONDS above; before, each
# recycle cost 100-2,318 read errors per benchmark run, 502s behind an ALB). `python -m bench.compare --modes
# recycle` proves it under load. The jitter is half the limit on purpose: workers share the load evenly, so
# with a small jitter they reach the limit together and all restart at once. The benchmark saw exactly that
# with 20,000 +/- 2,000: both workers exited within 0.15 s of each other and requests waited ~1.7 s.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 100_000, minimum=0)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 2, minimum=0)

# Import the app once in the master and fork workers from it: a replacement worker is serving in a fraction of a
# second instead of re-importing everything, and the workers share the imported code's memory. Safe because
# create_app() opens no connection: each worker's lifespan opens its own clients after the fork.
preload_app = True

# The ALB terminates TLS and appends the client to X-Forwarded-For: the app takes the client from the right of it
# (TRUSTED_PROXY_HOPS, app/core/client_address.py), and the worker turns uvicorn's own proxy-header handling off.

# The heartbeat file on tmpfs: on a container's overlay filesystem its writes can stall a worker.
if Path("/dev/shm").is_dir():  # noqa: S108 - gunicorn's documented choice for containers
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# JSON logs. The app writes one JSON access line per request itself (with request id and duration), so
# gunicorn's and uvicorn's plain-text access logs are off and their other loggers use the app's formatter.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict = logging_config(loglevel.upper())

proc_name = "contentry-api"
# gunicorn's runtime control socket (gunicornc) defaults to $HOME/.gunicorn: useless in a container, unwritable
# on a read-only root filesystem, and shared by every gunicorn running under the same user.
control_socket_disable = True
