"""The app instances' user data: one cloud-init document, rendered from plain values (pure, parse-tested).

At boot cloud-init installs Docker and the CloudWatch agent (AL2023 packages; the AMI pins the repository
release, so no package upgrade runs here: patches arrive as a new AMI, i.e. a new launch template version),
writes a systemd unit and starts it. Before every start the unit's prepare step reads the app's secret from
Secrets Manager with the instance role into a root-only env file, logs in to ECR and pulls the image; then the
container runs in the foreground under systemd, which restarts it on failure and starts it on reboot.

Secret values never pass through cloud-init, a command line or a log: they travel from the AWS CLI's stdout
through a pipe into the env file, which only root (and the Docker daemon) can read.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from infra.planning.compute.health_check import APP_PORT, STOP_TIMEOUT_SECONDS
from infra.planning.compute.instance_policy import CLOUDWATCH_AGENT_NAMESPACE

CONTAINER_NAME = "contentry-api"
UNIT_NAME = "contentry-api.service"
CONFIG_DIR = "/etc/contentry"
APP_ENV_FILE = f"{CONFIG_DIR}/app.env"
INSTANCE_ENV_FILE = f"{CONFIG_DIR}/instance.env"
LIBEXEC_DIR = "/usr/local/libexec/contentry"
PREPARE_SCRIPT = f"{LIBEXEC_DIR}/prepare-api"
SECRET_TO_ENV_SCRIPT = f"{LIBEXEC_DIR}/secret-to-env"
UNIT_PATH = f"/etc/systemd/system/{UNIT_NAME}"
JOURNAL_COPY_UNIT_NAME = "contentry-api-journal.service"
JOURNAL_COPY_UNIT_PATH = f"/etc/systemd/system/{JOURNAL_COPY_UNIT_NAME}"
BOOT_LOG_DIR = "/var/log/contentry"
UNIT_LOG_FILE = f"{BOOT_LOG_DIR}/api-unit.log"
"""The API unit's journal, copied as text for the CloudWatch agent (which reads files, not the journal)."""
JOURNAL_CURSOR_FILE = "/var/lib/contentry/api-journal.cursor"
CLOUDWATCH_AGENT_CONFIG = "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json"
CLOUDWATCH_AGENT_CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
PACKAGES = ("docker", "amazon-cloudwatch-agent")
# The image's documented entry point (app/README.md): gunicorn with uvicorn workers, one per CPU.
GUNICORN_COMMAND = ("gunicorn", "-c", "app/gunicorn.conf.py", "app.main:app")

# Words systemd passes through unchanged: no quotes, no '%' specifiers, no '$' except the ${INSTANCE_ID}
# reference below (systemd expands it from the unit's EnvironmentFile).
_PLAIN_WORD = re.compile(r"^[A-Za-z0-9_@:/.=,+-]+$")
_INSTANCE_ID_REFERENCE = "${INSTANCE_ID}"


@dataclass(frozen=True)
class AppBoot:
    region: str
    image: str
    """The full image reference to run: `<repository URL>:<tag>` or `<repository URL>@sha256:...`."""
    release: str
    """APP_RELEASE in the container: the image tag or digest, so /api/health/detailed names the build."""
    registry: str
    """The registry host to log in to (`<account>.dkr.ecr.<region>.amazonaws.com`)."""
    app_secret_arn: str
    log_group_name: str
    workers: int
    """gunicorn workers (one per vCPU), set explicitly: the MongoDB connection budget counts on exactly these."""
    mongo_max_pool_size: int
    """Each worker's MongoDB pool, from the fleet's connection budget (infra/capacity/mongo_connections.py)."""
    settings_digest: str
    """SHA-256 of the app secret's document (not secret). In the user data so that a changed secret (a JWT key
    rotation, a new password) is a new launch template version, rolled through the fleet like a new image: the
    instances read the secret only when the app starts."""
    app_port: int = APP_PORT
    extra_environment: tuple[tuple[str, str], ...] = ()
    """More non-secret variables for the API (the jobs' time limit, the Datadog switch: job_containers.py)."""
    extras: HostExtras | None = None
    """What else the instance runs: the job containers (tier C colocated) and the Datadog agent."""


@dataclass(frozen=True)
class HostExtras:
    """cloud-init entries of what a host runs besides its main service (job_containers.host_extras builds them):
    files to write, and commands that start their units after the main one's."""

    write_files: tuple[dict[str, str], ...] = ()
    runcmd: tuple[tuple[str, ...], ...] = ()


def fixed_environment(boot: AppBoot) -> dict[str, str]:
    """The container's non-secret variables, set by the instance; the secret may not override them."""
    return {
        # On AWS the app always runs as production: it then refuses placeholder or missing secrets.
        "APP_ENV": "production",
        "AWS_REGION": boot.region,
        "APP_RELEASE": boot.release,
        "GUNICORN_BIND": f"0.0.0.0:{boot.app_port}",
        # The fleet's share of the Atlas tier's connections, divided among exactly this many workers.
        "GUNICORN_WORKERS": str(boot.workers),
        "MONGO_MAX_POOL_SIZE": str(boot.mongo_max_pool_size),
        **dict(boot.extra_environment),
    }


def docker_run_command(boot: AppBoot) -> list[str]:
    """The container's command line, exactly as the unit's ExecStart runs it."""
    return [
        "/usr/bin/docker",
        "run",
        "--name",
        CONTAINER_NAME,
        "--rm",
        # The prepare step pulled exactly this reference; never let `run` fetch something else.
        "--pull",
        "never",
        "--env-file",
        APP_ENV_FILE,
        "--publish",
        f"{boot.app_port}:{boot.app_port}",
        # The image is built for a read-only root (code owned by root, bytecode precompiled); scratch space
        # is a small tmpfs. No capabilities: port 8000 needs none.
        "--read-only",
        "--tmpfs",
        "/tmp:rw,noexec,nosuid,size=64m",  # noqa: S108 - a private tmpfs inside the container
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--ulimit",
        "nofile=65536:65536",
        "--stop-timeout",
        str(STOP_TIMEOUT_SECONDS),
        "--log-driver",
        "awslogs",
        "--log-opt",
        f"awslogs-region={boot.region}",
        "--log-opt",
        f"awslogs-group={boot.log_group_name}",
        "--log-opt",
        f"awslogs-stream={_INSTANCE_ID_REFERENCE}/{CONTAINER_NAME}",
        # If CloudWatch Logs is slow or unreachable, drop log lines rather than block the app's stdout (a
        # blocked write would stall every request on that worker).
        "--log-opt",
        "mode=non-blocking",
        "--log-opt",
        "max-buffer-size=8m",
        # The container's stdout (one JSON line per request) reaches CloudWatch through the log driver alone; only
        # its stderr (a crash before logging is set up) also reaches the unit's journal, and so its boot log.
        "--attach",
        "stderr",
        boot.image,
        *GUNICORN_COMMAND,
    ]


_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def _sha256_word(digest: str) -> str:
    if not _SHA256_HEX.match(digest):
        raise ValueError("settings_digest must be a SHA-256 hex digest (64 lowercase hex digits)")
    return digest


def _systemd_command(words: list[str]) -> str:
    for word in words:
        if not _PLAIN_WORD.match(word.replace(_INSTANCE_ID_REFERENCE, "x")):
            raise ValueError(f"'{word}' would need quoting in a systemd command line")
    return " ".join(words)


def _unit(boot: AppBoot) -> str:
    return "\n".join(
        [
            "[Unit]",
            "Description=Contentry API container",
            "Wants=network-online.target",
            "After=network-online.target docker.service",
            "Requires=docker.service",
            # Its journal (the prepare step's output, systemd's start failures and restarts, docker's errors) is
            # copied to a file the CloudWatch agent ships: boot failures are visible without a shell on the host.
            f"Wants={JOURNAL_COPY_UNIT_NAME}",
            f"After={JOURNAL_COPY_UNIT_NAME}",
            # Never give up: a transient failure (ECR or Secrets Manager unreachable) heals by itself, and a
            # permanently broken instance fails its ELB health checks and is replaced by the Auto Scaling group.
            "StartLimitIntervalSec=0",
            "",
            "[Service]",
            "Type=simple",
            f"EnvironmentFile={INSTANCE_ENV_FILE}",
            f"ExecStartPre={PREPARE_SCRIPT}",
            f"ExecStartPre=-/usr/bin/docker rm --force {CONTAINER_NAME}",
            f"ExecStart={_systemd_command(docker_run_command(boot))}",
            f"ExecStop=/usr/bin/docker stop --time {STOP_TIMEOUT_SECONDS} {CONTAINER_NAME}",
            "Restart=always",
            "RestartSec=5",
            "TimeoutStartSec=600",
            f"TimeoutStopSec={STOP_TIMEOUT_SECONDS + 20}",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )


BOOT_FETCH_ATTEMPTS = 6
"""Tries of each network step before the prepare step fails (and systemd starts it again 5 s later)."""
BOOT_FETCH_FIRST_DELAY_SECONDS = 2
"""The first wait; each next one doubles (2, 4, 8, 16, 32: about a minute in all)."""


def _journal_copy_unit() -> str:
    return journal_copy_unit((UNIT_NAME,), UNIT_LOG_FILE, JOURNAL_CURSOR_FILE)


def journal_copy_unit(units: Sequence[str], log_file: str, cursor_file: str) -> str:
    """A unit that copies the journal of `units` to `log_file`, which the CloudWatch agent ships."""
    command = [
        "/usr/bin/journalctl",
        *(f"--unit={unit}" for unit in units),
        "--follow",
        "--lines=all",
        "--output=short-iso-precise",
        "--no-hostname",
        # Where it stopped: a restart of this unit resumes there, so no line is shipped twice or skipped.
        f"--cursor-file={cursor_file}",
    ]
    return "\n".join(
        [
            "[Unit]",
            f"Description=Copy the journal of {' '.join(units)} to {log_file} for the CloudWatch agent",
            "After=systemd-journald.service",
            "",
            "[Service]",
            "Type=simple",
            f"ExecStart={_systemd_command(command)}",
            f"StandardOutput=append:{log_file}",
            "StandardError=journal",
            # systemd creates /var/lib/contentry and /var/log/contentry for it.
            "StateDirectory=contentry",
            "LogsDirectory=contentry",
            "Restart=always",
            "RestartSec=5",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )


def _prepare_script(boot: AppBoot) -> str:
    return prepare_script(
        name="prepare-api",
        region=boot.region,
        secret_arn=boot.app_secret_arn,
        registry=boot.registry,
        image=boot.image,
        settings_digest=boot.settings_digest,
        env_file=APP_ENV_FILE,
        fixed=fixed_environment(boot),
    )


def prepare_script(
    *,
    name: str,
    region: str,
    secret_arn: str,
    registry: str,
    image: str,
    settings_digest: str,
    env_file: str,
    fixed: Mapping[str, str],
) -> str:
    """The prepare step of one container's unit (`name` in its messages): the app's secret with the container's
    `fixed` variables into the root-only `env_file`, a registry login, the image pulled."""
    fixed_words = " ".join(shlex.quote(f"{key}={value}") for key, value in fixed.items())
    return f"""#!/bin/bash
# Before every start of the container: a fresh copy of the app's secret (so a restart picks up a rotated
# value), a fresh registry login (ECR tokens last 12 hours), and the image present locally.
# Never add `set -x` here: it would print the secret's plumbing into the journal.
set -euo pipefail
umask 077
readonly REGION={shlex.quote(region)}
readonly SECRET_ARN={shlex.quote(secret_arn)}
readonly REGISTRY={shlex.quote(registry)}
readonly IMAGE={shlex.quote(image)}
# The settings this launch template version was made for (SHA-256 of the secret's JSON, not secret): a new
# digest is a new version, which the rollout replaces every instance with. The secret read below is compared to
# it, and a mismatch logged (the secret changed since: the next `pulumi up` rolls the fleet onto it).
readonly SETTINGS_SHA256={_sha256_word(settings_digest)}

# Each network step is retried with exponential backoff: right after launch the instance role's credentials can
# take seconds to be accepted, and an API or the registry can throttle or blink. Only the step's name is logged.
retry() {{
  local attempt=1 delay={BOOT_FETCH_FIRST_DELAY_SECONDS}
  until "$@"; do
    if (( attempt >= {BOOT_FETCH_ATTEMPTS} )); then
      echo "{name}: $1 failed {BOOT_FETCH_ATTEMPTS} times; giving up until systemd starts this step again" >&2
      return 1
    fi
    echo "{name}: $1 failed (attempt $attempt of {BOOT_FETCH_ATTEMPTS}); retrying in ${{delay}}s" >&2
    sleep "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 2))
  done
}}

fetch_secret() {{
  aws secretsmanager get-secret-value --region "$REGION" --secret-id "$SECRET_ARN" \\
      --query SecretString --output text \\
    | EXPECTED_SETTINGS_SHA256="$SETTINGS_SHA256" {SECRET_TO_ENV_SCRIPT} {fixed_words} > "$tmp"
}}

registry_login() {{
  aws ecr get-login-password --region "$REGION" \\
    | docker login --username AWS --password-stdin "$REGISTRY" > /dev/null
}}

pull_image() {{
  docker image inspect "$IMAGE" > /dev/null 2>&1 || docker pull --quiet "$IMAGE" > /dev/null
}}

install -d -m 0700 -o root -g root {CONFIG_DIR}
tmp="$(mktemp {env_file}.XXXXXX)"
trap 'rm -f "$tmp"' EXIT
retry fetch_secret
mv -f "$tmp" {env_file}
retry registry_login
retry pull_image
"""


# Runs with the system Python of AL2023 (cloud-init itself is Python). It never prints a value: its errors
# name keys only, and its output goes to the root-only env file.
ENV_FILE_WRITER_PROGRAM = '''#!/usr/bin/python3
"""The app's secret (a JSON object on stdin) to a docker --env-file on stdout, plus KEY=VALUE arguments."""
import hashlib
import json
import os
import re
import sys

NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def main():
    fixed = dict(argument.split("=", 1) for argument in sys.argv[1:])
    text = sys.stdin.read()
    # The AWS CLI's text output ends the value with a newline; the digest is of the value itself.
    document = text[:-1] if text.endswith("\\n") else text
    expected = os.environ.get("EXPECTED_SETTINGS_SHA256", "")
    actual = hashlib.sha256(document.encode()).hexdigest()
    if expected and actual != expected:
        sys.stderr.write(
            "secret-to-env: the app secret (sha256 %s) is not the one this launch template was made for (%s): it"
            " changed since; the next pulumi up rolls the fleet onto it\\n" % (actual, expected)
        )
    try:
        secret = json.loads(document)
    except ValueError:
        sys.exit("the app secret is not JSON")
    if not isinstance(secret, dict) or not secret:
        sys.exit("the app secret is not a non-empty JSON object")
    for key, value in secret.items():
        if not NAME.match(key):
            sys.exit("the app secret has a key that is not an environment variable name: %r" % key)
        if key in fixed:
            sys.exit("the app secret must not set %s: the instance sets it" % key)
        if not isinstance(value, str) or "\\n" in value or "\\r" in value or "\\0" in value:
            sys.exit("the app secret's %s is not a one-line string" % key)
    merged = dict(secret)
    merged.update(fixed)
    sys.stdout.write("".join("%s=%s\\n" % (key, merged[key]) for key in sorted(merged)))


main()
'''


def cloudwatch_agent_config(
    log_group_name: str, unit_logs: Sequence[tuple[str, str]] = ((UNIT_LOG_FILE, "api-unit"),)
) -> dict[str, Any]:
    """Memory and root-disk use (EC2 does not see inside the guest) per instance and aggregated per Auto Scaling
    group (what fleet alarms watch); and the boot logs, into the app's log group next to the container's
    stream: cloud-init's output (packages, the agent itself) and the API unit's journal (the prepare step,
    systemd's start failures and restarts)."""
    return {
        "agent": {"metrics_collection_interval": 60},
        "metrics": {
            "namespace": CLOUDWATCH_AGENT_NAMESPACE,
            "append_dimensions": {
                "AutoScalingGroupName": "${aws:AutoScalingGroupName}",
                "InstanceId": "${aws:InstanceId}",
            },
            "aggregation_dimensions": [["AutoScalingGroupName"]],
            "metrics_collected": {
                "mem": {"measurement": ["mem_used_percent"]},
                "disk": {"measurement": ["used_percent"], "resources": ["/"], "drop_device": True},
            },
        },
        "logs": {
            "logs_collected": {
                "files": {
                    "collect_list": [
                        {
                            # Safe to ship: nothing secret is ever printed at boot (see the module docstring).
                            "file_path": "/var/log/cloud-init-output.log",
                            "log_group_name": log_group_name,
                            "log_stream_name": "{instance_id}/cloud-init-output",
                        },
                        *(
                            {
                                "file_path": path,
                                "log_group_name": log_group_name,
                                "log_stream_name": f"{{instance_id}}/{stream}",
                            }
                            for path, stream in unit_logs
                        ),
                    ]
                }
            }
        },
    }


def cloud_config(boot: AppBoot) -> dict[str, Any]:
    """The cloud-init document as data (what `render_user_data` serializes)."""

    def root_file(path: str, content: str, permissions: str) -> dict[str, str]:
        return {"path": path, "owner": "root:root", "permissions": permissions, "content": content}

    return {
        "package_update": False,
        "package_upgrade": False,
        "packages": list(PACKAGES),
        "write_files": [
            root_file(SECRET_TO_ENV_SCRIPT, ENV_FILE_WRITER_PROGRAM, "0700"),
            root_file(PREPARE_SCRIPT, _prepare_script(boot), "0700"),
            root_file(UNIT_PATH, _unit(boot), "0644"),
            root_file(JOURNAL_COPY_UNIT_PATH, _journal_copy_unit(), "0644"),
            root_file(
                CLOUDWATCH_AGENT_CONFIG, json.dumps(cloudwatch_agent_config(boot.log_group_name), indent=2), "0644"
            ),
            *(boot.extras.write_files if boot.extras else ()),
        ],
        "runcmd": [
            ["systemctl", "enable", "--now", "docker.service"],
            ["install", "-d", "-m", "0700", "-o", "root", "-g", "root", CONFIG_DIR],
            # The container's log stream is named after the instance (read from cloud-init's own metadata).
            ["sh", "-c", f'printf "INSTANCE_ID=%s\\n" "$(cloud-init query v1.instance_id)" > {INSTANCE_ENV_FILE}'],
            [CLOUDWATCH_AGENT_CTL, "-a", "fetch-config", "-m", "ec2", "-s", "-c", f"file:{CLOUDWATCH_AGENT_CONFIG}"],
            ["systemctl", "daemon-reload"],
            # After the agent (it reads the copy from the start) and before the API, whose journal it copies.
            ["systemctl", "enable", "--now", JOURNAL_COPY_UNIT_NAME],
            ["systemctl", "enable", "--now", UNIT_NAME],
            *([*command] for command in (boot.extras.runcmd if boot.extras else ())),
        ],
    }


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks: the scripts stay readable in the console's user-data view."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _represent_str)


def render_user_data(boot: AppBoot) -> str:
    """`#cloud-config` YAML. Deterministic: the same values give the same bytes (and the same launch template
    version); a new image or release gives new bytes, hence a new version and an instance refresh."""
    return render_cloud_config(cloud_config(boot))


def render_cloud_config(document: Mapping[str, Any]) -> str:
    """A cloud-init document as `#cloud-config` YAML, scripts as readable `|` blocks; deterministic."""
    body = yaml.dump(dict(document), Dumper=_LiteralDumper, sort_keys=False, width=1000)
    return "#cloud-config\n" + body
