"""The processes the infrastructure runs from the one image: their commands and arguments, as the contract
with the EC2 and Kubernetes code fixes them."""

import socket
from pathlib import Path

import yaml

from app.core.config import Settings
from app.jobs.healthcheck import node_name
from app.jobs.worker import worker_argv

APP_DIR = Path(__file__).resolve().parents[3] / "app"


def test_the_worker_consumes_the_jobs_queue_one_message_per_process() -> None:
    argv = worker_argv(Settings(worker_concurrency=3))
    pairs = dict(zip(argv[1::2], argv[2::2], strict=False))
    assert argv[0] == "worker"
    assert pairs["--queues"] == "jobs"
    assert pairs["--concurrency"] == "3"
    assert pairs["--prefetch-multiplier"] == "1"
    assert pairs["--pool"] == "prefork"
    # The name the healthcheck pings on the same host.
    assert pairs["--hostname"] == "celery@%h"
    assert node_name() == f"celery@{socket.gethostname()}"


def test_the_worker_runs_from_the_apis_image_with_its_own_healthcheck() -> None:
    services = yaml.safe_load((APP_DIR / "docker-compose.yml").read_text())["services"]
    api, worker = services["api"], services["worker"]
    assert worker["build"] == api["build"], "one image for the API and the worker"
    assert worker["command"] == ["python", "-m", "app.jobs.worker"]
    assert worker["healthcheck"]["test"] == ["CMD", "python", "-m", "app.jobs.healthcheck"]
    assert "ports" not in worker, "a worker serves nothing"
    dockerfile = (APP_DIR / "Dockerfile").read_text()
    assert "USER 10001:10001" in dockerfile
    stages = [line.split()[-1] for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert stages == ["wheels", "venv", "runtime"], "no extra image or stage for the worker"
