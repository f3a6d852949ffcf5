"""The deployment files, read as a reviewer would: no Docker engine is needed to check what they promise."""

import importlib
import os
import re
import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml
from uvicorn_worker import UvicornWorker

from app.worker import ClientDeadlines
from tests.app.support import REPO_ROOT

APP_DIR = REPO_ROOT / "app"
FORBIDDEN_IN_IMAGE = ("pulumi", "pytest", "moto", "ruff", "pyright", "hypothesis", "locust", "secantus", "httpx")
CONTRACT_VARIABLES = (
    "APP_ENV",
    "MONGO_URL",
    "REDIS_URL",
    "JWT_KEYS",
    "JWT_CURRENT_KID",
    "S3_BUCKET",
    "CDN_DOMAIN",
    "AWS_REGION",
)
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(?:\[[^\]]+\])?==(?P<version>[0-9][^\s;#]*)$")


def requirement_lines(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-r "):
            lines.append(line)
    return lines


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in requirement_lines(path):
        match = REQUIREMENT.match(line)
        assert match, f"{path.name}: {line!r} is not pinned exactly with =="
        found[match["name"].lower().replace("_", "-")] = match["version"]
    return found


def dockerfile_stages() -> list[list[str]]:
    """Instructions per stage, continuation lines joined."""
    text = (APP_DIR / "Dockerfile").read_text().replace("\\\n", " ")
    stages: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_the_image_is_multi_stage_and_builds_per_target_platform() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    froms = [stage[0] for stage in stages]
    assert "--platform=$BUILDPLATFORM" in froms[0], "wheels are fetched on the build machine's architecture"
    text = (APP_DIR / "Dockerfile").read_text()
    assert "ARG TARGETARCH" in text
    for arch in ("amd64) arch=x86_64", "arm64) arch=aarch64"):
        assert arch in text
    assert "--only-binary=:all:" in text, "nothing is compiled, in any architecture"


def test_the_runtime_stage_runs_as_a_non_root_user() -> None:
    runtime = dockerfile_stages()[-1]
    users = [line.split(None, 1)[1] for line in runtime if line.upper().startswith("USER ")]
    assert users, "the runtime stage sets USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_the_runtime_stage_checks_liveness_with_python() -> None:
    runtime = dockerfile_stages()[-1]
    [healthcheck] = [line for line in runtime if line.upper().startswith("HEALTHCHECK ")]
    assert "/api/health/live" in healthcheck
    assert '"python"' in healthcheck
    assert "curl" not in healthcheck


def test_the_runtime_stage_runs_the_contract_command_on_port_8000() -> None:
    runtime = dockerfile_stages()[-1]
    assert 'CMD ["gunicorn", "-c", "app/gunicorn.conf.py", "app.main:app"]' in runtime
    assert "EXPOSE 8000" in runtime
    assert any(line.startswith("WORKDIR /srv") for line in runtime)
    assert any(line.startswith("COPY . /srv/app") for line in runtime)


def test_the_image_installs_only_the_apps_requirements() -> None:
    text = (APP_DIR / "Dockerfile").read_text()
    installs = re.findall(r"-r\s+(\S+)", text)
    assert installs
    assert all(path.endswith("requirements.txt") and "test" not in path for path in installs)
    ignored = (APP_DIR / ".dockerignore").read_text().split()
    assert "requirements-test.txt" in ignored


def test_the_app_requirements_are_exact_pins_without_tooling() -> None:
    app_pins = pins(APP_DIR / "requirements.txt")
    for forbidden in FORBIDDEN_IN_IMAGE:
        assert not [name for name in app_pins if forbidden in name], f"{forbidden} must not be in the image"
    for needed in ("fastapi", "uvicorn", "uvicorn-worker", "gunicorn", "pymongo", "redis", "boto3", "pydantic"):
        assert needed in app_pins


def test_shared_pins_agree_with_the_root_requirements() -> None:
    app_pins = pins(APP_DIR / "requirements.txt")
    assert app_pins["boto3"] == "1.44.8"
    assert app_pins["pydantic"] == "2.14.4"
    assert app_pins["pydantic-settings"] == "2.16.3"
    root = REPO_ROOT / "requirements.txt"
    if not root.exists():
        pytest.skip("no root requirements.txt in this checkout")
    root_pins = {}
    for line in requirement_lines(root):
        match = REQUIREMENT.match(line)
        if match:
            root_pins[match["name"].lower().replace("_", "-")] = match["version"]
    for name in set(app_pins) & set(root_pins):
        assert app_pins[name] == root_pins[name], f"{name}: app pins {app_pins[name]}, root pins {root_pins[name]}"


def test_test_requirements_are_exact_and_leave_the_root_tools_to_the_root_file() -> None:
    test_pins = pins(APP_DIR / "requirements-test.txt")
    for tool in ("pytest", "moto", "boto3", "pyright", "ruff"):
        assert tool not in test_pins
    bench_pins = pins(REPO_ROOT / "bench" / "requirements.txt")
    assert "locust" in bench_pins


def load_gunicorn_config(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in ("GUNICORN_WORKERS", "WEB_CONCURRENCY", "GUNICORN_KEEPALIVE", "GUNICORN_BIND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(APP_DIR / "gunicorn.conf.py"))


def test_gunicorn_serves_uvicorn_workers_on_port_8000(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_gunicorn_config(monkeypatch)
    assert config["bind"] == "0.0.0.0:8000"
    # uvicorn's worker, with client deadlines and draining recycles (app/worker.py)
    assert config["worker_class"] == "app.worker.ContentryUvicornWorker"
    worker_module, _, worker_class = config["worker_class"].rpartition(".")
    assert issubclass(getattr(importlib.import_module(worker_module), worker_class), UvicornWorker)
    assert config["workers"] == config["available_cpus"]()
    assert config["graceful_timeout"] >= 10
    assert config["max_requests"] > 0
    # A wide jitter, so evenly loaded workers do not all recycle at the same moment.
    assert config["max_requests"] // 4 <= config["max_requests_jitter"] < config["max_requests"]
    assert config["preload_app"] is True
    assert config["accesslog"] is None, "the app writes the JSON access lines"
    assert config["logconfig_dict"]["formatters"]["json"]["()"].__name__ == "JsonFormatter"


def test_gunicorn_keeps_connections_open_longer_than_the_alb(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_gunicorn_config(monkeypatch)
    assert config["keepalive"] > config["ALB_IDLE_TIMEOUT_SECONDS"] == 60
    with pytest.raises(ValueError, match="GUNICORN_KEEPALIVE=60 must be at least 61"):
        load_gunicorn_config(monkeypatch, GUNICORN_KEEPALIVE="60")


def test_gunicorn_worker_count_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_gunicorn_config(monkeypatch, GUNICORN_WORKERS="7")["workers"] == 7
    assert load_gunicorn_config(monkeypatch, WEB_CONCURRENCY="3")["workers"] == 3
    with pytest.raises(ValueError, match="at least 1"):
        load_gunicorn_config(monkeypatch, GUNICORN_WORKERS="0")


def test_the_cpu_default_respects_a_container_cpu_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    available_cpus = load_gunicorn_config(monkeypatch)["available_cpus"]
    allowed = len(os.sched_getaffinity(0))
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("150000 100000\n")  # a limit of 1.5 CPUs rounds up to 2 workers
    assert available_cpus(cpu_max) == min(2, allowed)
    cpu_max.write_text("50000 100000\n")  # half a CPU still gets one worker
    assert available_cpus(cpu_max) == 1
    cpu_max.write_text("max 100000\n")  # no limit
    assert available_cpus(cpu_max) == allowed
    assert available_cpus(tmp_path / "no-cgroup-v2-here") == allowed


def test_docker_compose_runs_the_api_with_mongodb_and_redis() -> None:
    compose = yaml.safe_load((APP_DIR / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"api", "mongo", "redis"} <= set(services)
    api = services["api"]
    for variable in CONTRACT_VARIABLES:
        assert variable in api["environment"], f"docker-compose api sets {variable}"
    assert api["environment"]["MONGO_URL"].endswith("/contentry")
    assert api["depends_on"]["mongo"]["condition"] == "service_healthy"
    for service in services.values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), "local services are not exposed beyond this machine"


def test_slow_client_deadlines_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_gunicorn_config(monkeypatch)
    assert config["client_deadlines"] == ClientDeadlines(header_seconds=10, body_seconds=15, drain_seconds=5)
    monkeypatch.setenv("GUNICORN_HEADER_TIMEOUT", "3")
    monkeypatch.setenv("GUNICORN_BODY_TIMEOUT", "4.5")
    assert ClientDeadlines.from_env() == ClientDeadlines(header_seconds=3, body_seconds=4.5, drain_seconds=5)
    monkeypatch.setenv("GUNICORN_HEADER_TIMEOUT", "forever")
    with pytest.raises(ValueError, match="GUNICORN_HEADER_TIMEOUT='forever' is not a number"):
        ClientDeadlines.from_env()


def test_a_drain_longer_than_half_the_worker_timeout_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # gunicorn gets no heartbeat from a draining worker: a drain near `timeout` would get the worker killed.
    monkeypatch.setenv("GUNICORN_DRAIN_SECONDS", "20")
    with pytest.raises(ValueError, match=r"GUNICORN_DRAIN_SECONDS=20\.0 must be at most half GUNICORN_TIMEOUT"):
        load_gunicorn_config(monkeypatch)
