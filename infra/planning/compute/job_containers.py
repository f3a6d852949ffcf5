"""The background job containers on an EC2 host, and the optional Datadog agent beside them: their command lines,
environments, systemd units and the host-side health reporter, as plain data (pure, parse-tested).

The worker is the app image with another command (`python -m app.jobs.worker`); the queue metrics exporter is the
same image again (`python -m app.jobs.queue_metrics`). They run on the worker fleet's hosts (workerPlacement
dedicated), or beside the API on the app instances (tier C, colocated). Each container has its own unit whose
prepare step reads the app's secret into its own root-only env file (user_data.prepare_script, the API's own
step with other fixed values), so no unit waits on another's file.

Credentials: the worker and the exporter run in the host's network namespace (`--network host`), so they reach
the instance metadata service without crossing Docker's bridge, and the worker fleet's launch template keeps the
IMDSv2 hop limit at 1: a container on the bridge (the Datadog agent) cannot obtain the role's credentials. They
publish no port and the worker hosts' security group admits nothing, so sharing the host's network opens nothing.

Health: the image's `python -m app.jobs.healthcheck` (Celery's own ping of this host's worker) is the container's
Docker HEALTHCHECK; a systemd timer on the host reads Docker's verdict and tells Auto Scaling the instance is
unhealthy (SetInstanceHealth), which replaces it. The same timer notices a scale-in or refresh (the instance's
target lifecycle state) and stops the worker warmly before the termination lifecycle hook lets EC2 go on.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from infra.planning.compute.user_data import INSTANCE_ENV_FILE, LIBEXEC_DIR, HostExtras, prepare_script

JOBS_METRICS_NAMESPACE: Final = "Contentry/Jobs"
"""The exporter's CloudWatch namespace (JOBS_METRICS_NAMESPACE): QueueDepth and OldestJobAgeSeconds, dimension
Stack. The only namespace the job containers may publish to (the role's condition)."""
QUEUE_DEPTH_METRIC: Final = "QueueDepth"
OLDEST_JOB_AGE_METRIC: Final = "OldestJobAgeSeconds"
STACK_DIMENSION: Final = "Stack"
QUARANTINE_PREFIX: Final = "quarantine/"
"""Where a file whose bytes contradict its declared type is moved (UPLOAD_QUARANTINE_PREFIX), inside the files
bucket: the workers' grants on the bucket's objects cover it."""

WORKER_COMMAND: Final = ("python", "-m", "app.jobs.worker")
EXPORTER_COMMAND: Final = ("python", "-m", "app.jobs.queue_metrics")
HEALTHCHECK_COMMAND: Final = ("python", "-m", "app.jobs.healthcheck")

WORKER_CONTAINER: Final = "contentry-worker"
EXPORTER_CONTAINER: Final = "contentry-queue-metrics"
WORKER_UNIT: Final = f"{WORKER_CONTAINER}.service"
EXPORTER_UNIT: Final = f"{EXPORTER_CONTAINER}.service"
CONFIG_DIR: Final = "/etc/contentry"
WORKER_ENV_FILE: Final = f"{CONFIG_DIR}/worker.env"
EXPORTER_ENV_FILE: Final = f"{CONFIG_DIR}/queue-metrics.env"
PREPARE_WORKER: Final = f"{LIBEXEC_DIR}/prepare-worker"
PREPARE_EXPORTER: Final = f"{LIBEXEC_DIR}/prepare-queue-metrics"
HEALTH_REPORTER: Final = f"{LIBEXEC_DIR}/report-worker-health"
HEALTH_REPORTER_UNIT: Final = "contentry-worker-health.service"
HEALTH_REPORTER_TIMER: Final = "contentry-worker-health.timer"

HEALTH_INTERVAL_SECONDS: Final = 30
"""How often Docker runs the ping (and the host's timer reads the verdict)."""
HEALTH_TIMEOUT_SECONDS: Final = 10
"""The ping waits 5 s for the worker's answer (app.jobs.healthcheck); 10 s covers the interpreter's start too."""
HEALTH_RETRIES: Final = 3
"""Three failed pings in a row (90 s) make the container unhealthy: one slow answer under load is not a failure."""
HEALTH_START_PERIOD_SECONDS: Final = 120
"""Failed pings while the worker connects to the broker and forks its processes do not count."""
NOT_RUNNING_CHECKS_BEFORE_REPORT: Final = 10
"""A worker container that is not running (its prepare step failing, a crash loop) for this many checks in a row
(5 minutes at the timer's interval) is reported unhealthy too: Docker has no verdict on a container that is gone."""
STOP_MARGIN_SECONDS: Final = 30
"""Beyond the job time limit, for the worker's warm shutdown to ack and close its connections."""
LIFECYCLE_MARGIN_SECONDS: Final = 120
"""Beyond the stop timeout, for the timer to notice a termination (30 s) and report it done."""

DATADOG_AGENT_IMAGE: Final = "public.ecr.aws/datadog/agent:7.63.3"
"""Pinned: a new agent arrives as a reviewed change (a new launch template version, rolled like the app)."""
DATADOG_CONTAINER: Final = "datadog-agent"
DATADOG_UNIT: Final = f"{DATADOG_CONTAINER}.service"
DATADOG_ENV_FILE: Final = f"{CONFIG_DIR}/datadog.env"
PREPARE_DATADOG: Final = f"{LIBEXEC_DIR}/prepare-datadog"
DOCKER_BRIDGE_GATEWAY: Final = "172.17.0.1"
"""The host's address on Docker's default bridge: the app's containers reach the agent there (DD_AGENT_HOST), and
the agent publishes its trace port on it alone, never on the instance's VPC address."""
DATADOG_APM_PORT: Final = 8126
API_SERVICE: Final = "contentry-api"
WORKER_SERVICE: Final = "contentry-worker"

_QUOTABLE = re.compile(r"^[A-Za-z0-9_@:/.=,+ -]+$")
_PLAIN = re.compile(r"^[A-Za-z0-9_@:/.=,+-]+$")
_INSTANCE_ID_REFERENCE = "${INSTANCE_ID}"


@dataclass(frozen=True)
class DatadogAgent:
    """The Datadog agent on a host: where it sends, and the secret holding its API key (only its ARN is here)."""

    site: str
    api_key_secret_arn: str
    env: str
    """DD_ENV: the stack."""
    version: str
    """DD_VERSION: the image tag."""


def datadog_environment(service: str, datadog: DatadogAgent | None) -> dict[str, str]:
    """What the app's processes need to know about Datadog: off (and no other DD_ variable), or the agent's
    address on this host and the service, env and version tags for their traces and correlated logs."""
    if datadog is None:
        return {"DATADOG_ENABLED": "false"}
    return {
        "DATADOG_ENABLED": "true",
        "DD_AGENT_HOST": DOCKER_BRIDGE_GATEWAY,
        "DD_ENV": datadog.env,
        "DD_LOGS_INJECTION": "true",
        "DD_SERVICE": service,
        "DD_VERSION": datadog.version,
    }


def api_job_environment(*, time_limit_seconds: int, datadog: DatadogAgent | None) -> tuple[tuple[str, str], ...]:
    """The API's variables for jobs and Datadog (AppBoot.extra_environment): the jobs' hard time limit (the API
    records it on each job it enqueues) and the Datadog switch."""
    return tuple(
        sorted({"JOB_TIME_LIMIT_SECONDS": str(time_limit_seconds), **datadog_environment(API_SERVICE, datadog)}.items())
    )


@dataclass(frozen=True)
class JobWorkers:
    """The job containers of one host, from plain values."""

    region: str
    image: str
    release: str
    registry: str
    app_secret_arn: str
    settings_digest: str
    log_group_name: str
    stack: str
    concurrency: int
    time_limit_seconds: int
    mongo_max_pool_size: int
    datadog: DatadogAgent | None = None

    @property
    def stop_timeout_seconds(self) -> int:
        """`docker stop` grace: a running job may take its whole time limit, and acks after it."""
        return self.time_limit_seconds + STOP_MARGIN_SECONDS


def lifecycle_heartbeat_seconds(time_limit_seconds: int) -> int:
    """How long the termination lifecycle hook holds a worker instance: the warm shutdown's longest stop plus the
    timer's reaction. After it, Auto Scaling goes on anyway (CONTINUE): nothing waits forever on a stuck host."""
    return time_limit_seconds + STOP_MARGIN_SECONDS + LIFECYCLE_MARGIN_SECONDS


def _common_environment(workers: JobWorkers, service: str) -> dict[str, str]:
    return {
        "APP_ENV": "production",
        "AWS_REGION": workers.region,
        "APP_RELEASE": workers.release,
        "JOB_TIME_LIMIT_SECONDS": str(workers.time_limit_seconds),
        "JOBS_METRICS_NAMESPACE": JOBS_METRICS_NAMESPACE,
        "STACK_NAME": workers.stack,
        "UPLOAD_QUARANTINE_PREFIX": QUARANTINE_PREFIX,
        # A job process's MongoDB pool, counted in the stack's connection budget (JOB_WORKER_POOL_SIZE).
        "MONGO_MAX_POOL_SIZE": str(workers.mongo_max_pool_size),
        **datadog_environment(service, workers.datadog),
    }


def worker_environment(workers: JobWorkers) -> dict[str, str]:
    """The worker's non-secret variables (the secret may not override them)."""
    return {**_common_environment(workers, WORKER_SERVICE), "WORKER_CONCURRENCY": str(workers.concurrency)}


def exporter_environment(workers: JobWorkers) -> dict[str, str]:
    return _common_environment(workers, WORKER_SERVICE)


def _systemd_word(word: str) -> str:
    if _PLAIN.match(word.replace(_INSTANCE_ID_REFERENCE, "x")):
        return word
    if _QUOTABLE.match(word):
        return f'"{word}"'  # systemd keeps a double-quoted word with spaces as one argument
    raise ValueError(f"'{word}' would need escaping in a systemd command line")


def systemd_command(words: Sequence[str]) -> str:
    return " ".join(_systemd_word(word) for word in words)


def _logging(workers: JobWorkers, container: str) -> list[str]:
    return [
        "--log-driver",
        "awslogs",
        "--log-opt",
        f"awslogs-region={workers.region}",
        "--log-opt",
        f"awslogs-group={workers.log_group_name}",
        "--log-opt",
        f"awslogs-stream={_INSTANCE_ID_REFERENCE}/{container}",
        "--log-opt",
        "mode=non-blocking",
        "--log-opt",
        "max-buffer-size=8m",
        "--attach",
        "stderr",
    ]


def _locked_down(env_file: str) -> list[str]:
    return [
        "--rm",
        "--pull",
        "never",
        "--env-file",
        env_file,
        # The host's network namespace: the role's credentials through IMDSv2 at hop limit 1 (module docstring).
        "--network",
        "host",
        "--read-only",
        "--tmpfs",
        "/tmp:rw,noexec,nosuid,size=256m",  # noqa: S108 - a private tmpfs inside the container (thumbnails)
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
    ]


def worker_run_command(workers: JobWorkers) -> list[str]:
    """The worker container: Celery's ping as its health check, and `docker stop` waiting a whole job's time
    limit, so a stop is Celery's warm shutdown (SIGTERM: no new tasks, running ones finish)."""
    return [
        "/usr/bin/docker",
        "run",
        "--name",
        WORKER_CONTAINER,
        *_locked_down(WORKER_ENV_FILE),
        "--health-cmd",
        " ".join(HEALTHCHECK_COMMAND),
        "--health-interval",
        f"{HEALTH_INTERVAL_SECONDS}s",
        "--health-timeout",
        f"{HEALTH_TIMEOUT_SECONDS}s",
        "--health-retries",
        str(HEALTH_RETRIES),
        "--health-start-period",
        f"{HEALTH_START_PERIOD_SECONDS}s",
        "--stop-timeout",
        str(workers.stop_timeout_seconds),
        *_logging(workers, WORKER_CONTAINER),
        workers.image,
        *WORKER_COMMAND,
    ]


def exporter_run_command(workers: JobWorkers) -> list[str]:
    return [
        "/usr/bin/docker",
        "run",
        "--name",
        EXPORTER_CONTAINER,
        *_locked_down(EXPORTER_ENV_FILE),
        "--stop-timeout",
        "10",
        *_logging(workers, EXPORTER_CONTAINER),
        workers.image,
        *EXPORTER_COMMAND,
    ]


def _container_unit(
    *, description: str, container: str, prepare: str, command: list[str], stop_seconds: int, after: Sequence[str]
) -> str:
    return "\n".join(
        [
            "[Unit]",
            f"Description={description}",
            "Wants=network-online.target",
            f"After={' '.join(['network-online.target', 'docker.service', *after])}",
            "Requires=docker.service",
            # Never give up: a transient failure heals by itself; a worker that never becomes healthy is reported
            # to Auto Scaling by the health timer and replaced.
            "StartLimitIntervalSec=0",
            "",
            "[Service]",
            "Type=simple",
            f"EnvironmentFile={INSTANCE_ENV_FILE}",
            f"ExecStartPre={prepare}",
            f"ExecStartPre=-/usr/bin/docker rm --force {container}",
            f"ExecStart={systemd_command(command)}",
            f"ExecStop=/usr/bin/docker stop --time {stop_seconds} {container}",
            "Restart=always",
            "RestartSec=5",
            "TimeoutStartSec=600",
            f"TimeoutStopSec={stop_seconds + 20}",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )


def _health_reporter(region: str, lifecycle_hook: str | None) -> str:
    """Runs every HEALTH_INTERVAL_SECONDS as root on the host. Reports an unhealthy worker to Auto Scaling, and
    on a worker fleet, when Auto Scaling is terminating this instance (its lifecycle hook holds it in
    Terminating:Wait), stops the worker warmly and then lets the termination go on."""
    lifecycle = ""
    if lifecycle_hook is not None:
        lifecycle = f"""
# Being terminated (scale-in, refresh, replacement): the hook holds the instance until we say so or it times out.
token=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token || true)
state=$(curl -sf -H "X-aws-ec2-metadata-token: $token" \\
  http://169.254.169.254/latest/meta-data/autoscaling/target-lifecycle-state || true)
if [ "$state" = Terminated ]; then
  echo "report-worker-health: terminating; stopping the worker warmly (running jobs finish)" >&2
  systemctl stop {WORKER_UNIT} {EXPORTER_UNIT} || true
  group=$(aws autoscaling describe-auto-scaling-instances --region "$REGION" --instance-ids "$INSTANCE_ID" \\
    --query 'AutoScalingInstances[0].AutoScalingGroupName' --output text)
  aws autoscaling complete-lifecycle-action --region "$REGION" --auto-scaling-group-name "$group" \\
    --lifecycle-hook-name {shlex.quote(lifecycle_hook)} --instance-id "$INSTANCE_ID" --lifecycle-action-result CONTINUE
  exit 0
fi
"""
    return f"""#!/bin/bash
# The worker's health, as Docker's HEALTHCHECK (Celery's own ping) sees it, to Auto Scaling, which replaces an
# unhealthy instance. Reads only the container's state; never prints a secret.
set -euo pipefail
readonly REGION={shlex.quote(region)}
readonly COUNTER=/run/contentry/worker-not-running
install -d -m 0700 /run/contentry
{lifecycle}
status=$(docker inspect --format '{{{{.State.Health.Status}}}}' {WORKER_CONTAINER} 2>/dev/null || echo not-running)
case "$status" in
  healthy|starting) echo 0 > "$COUNTER"; exit 0 ;;
  unhealthy) reason="its Celery ping failed {HEALTH_RETRIES} times in a row" ;;
  *)
    count=$(( $(cat "$COUNTER" 2>/dev/null || echo 0) + 1 ))
    echo "$count" > "$COUNTER"
    if (( count < {NOT_RUNNING_CHECKS_BEFORE_REPORT} )); then exit 0; fi
    reason="the worker container has not been running for {NOT_RUNNING_CHECKS_BEFORE_REPORT} checks" ;;
esac
echo "report-worker-health: unhealthy ($reason); asking Auto Scaling to replace $INSTANCE_ID" >&2
# Respecting the grace period: a booting instance is never replaced for being slow to boot.
aws autoscaling set-instance-health --region "$REGION" --instance-id "$INSTANCE_ID" --health-status Unhealthy \\
  --should-respect-grace-period
"""


def _health_reporter_units() -> dict[str, str]:
    service = "\n".join(
        [
            "[Unit]",
            "Description=Report the job worker's health to Auto Scaling",
            "After=docker.service",
            "",
            "[Service]",
            "Type=oneshot",
            f"EnvironmentFile={INSTANCE_ENV_FILE}",
            f"ExecStart={HEALTH_REPORTER}",
            "",
        ]
    )
    timer = "\n".join(
        [
            "[Unit]",
            f"Description=Check the job worker's health every {HEALTH_INTERVAL_SECONDS} s",
            "",
            "[Timer]",
            "OnBootSec=60",
            f"OnUnitActiveSec={HEALTH_INTERVAL_SECONDS}",
            "AccuracySec=5",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ]
    )
    return {
        f"/etc/systemd/system/{HEALTH_REPORTER_UNIT}": service,
        f"/etc/systemd/system/{HEALTH_REPORTER_TIMER}": timer,
    }


def _root_file(path: str, content: str, permissions: str) -> dict[str, str]:
    return {"path": path, "owner": "root:root", "permissions": permissions, "content": content}


def job_container_files(workers: JobWorkers, *, lifecycle_hook: str | None) -> list[dict[str, str]]:
    """cloud-init write_files entries: each container's prepare step and unit, and the health reporter. With a
    lifecycle hook (the worker fleet), the reporter also stops the worker warmly on termination; without one
    (colocated on the app instances), it reports health only."""

    def prepare(name: str, env_file: str, fixed: Mapping[str, str]) -> str:
        return prepare_script(
            name=name,
            region=workers.region,
            secret_arn=workers.app_secret_arn,
            registry=workers.registry,
            image=workers.image,
            settings_digest=workers.settings_digest,
            env_file=env_file,
            fixed=fixed,
        )

    files = [
        _root_file(PREPARE_WORKER, prepare("prepare-worker", WORKER_ENV_FILE, worker_environment(workers)), "0700"),
        _root_file(
            PREPARE_EXPORTER,
            prepare("prepare-queue-metrics", EXPORTER_ENV_FILE, exporter_environment(workers)),
            "0700",
        ),
        _root_file(
            f"/etc/systemd/system/{WORKER_UNIT}",
            _container_unit(
                description="Contentry job worker container (Celery)",
                container=WORKER_CONTAINER,
                prepare=PREPARE_WORKER,
                command=worker_run_command(workers),
                stop_seconds=workers.stop_timeout_seconds,
                after=[DATADOG_UNIT] if workers.datadog else [],
            ),
            "0644",
        ),
        _root_file(
            f"/etc/systemd/system/{EXPORTER_UNIT}",
            _container_unit(
                description="Contentry queue metrics exporter container (to CloudWatch)",
                container=EXPORTER_CONTAINER,
                prepare=PREPARE_EXPORTER,
                command=exporter_run_command(workers),
                stop_seconds=10,
                after=[],
            ),
            "0644",
        ),
        _root_file(HEALTH_REPORTER, _health_reporter(workers.region, lifecycle_hook), "0700"),
    ]
    files += [_root_file(path, content, "0644") for path, content in _health_reporter_units().items()]
    return files


def job_container_runcmd() -> list[list[str]]:
    return [
        ["systemctl", "enable", "--now", WORKER_UNIT],
        ["systemctl", "enable", "--now", EXPORTER_UNIT],
        ["systemctl", "enable", "--now", HEALTH_REPORTER_TIMER],
    ]


# Datadog
def datadog_run_command(datadog: DatadogAgent) -> list[str]:
    """The agent container: host metrics and the containers' logs through the Docker socket (read only), APM
    traces on the bridge gateway's 8126 only. Its API key comes from its env file, never the command line."""
    return [
        "/usr/bin/docker",
        "run",
        "--name",
        DATADOG_CONTAINER,
        "--rm",
        "--pull",
        "never",
        "--env-file",
        DATADOG_ENV_FILE,
        "--env",
        f"DD_SITE={datadog.site}",
        "--env",
        f"DD_ENV={datadog.env}",
        # The instance id as the host name, read by cloud-init at boot: the agent needs no instance metadata
        # (which the worker hosts' hop limit keeps from containers on the bridge).
        "--env",
        f"DD_HOSTNAME={_INSTANCE_ID_REFERENCE}",
        "--env",
        "DD_APM_ENABLED=true",
        "--env",
        "DD_APM_NON_LOCAL_TRAFFIC=true",
        "--env",
        "DD_LOGS_ENABLED=true",
        "--env",
        "DD_LOGS_CONFIG_CONTAINER_COLLECT_ALL=true",
        "--env",
        "DD_PROCESS_AGENT_ENABLED=false",
        "--publish",
        f"{DOCKER_BRIDGE_GATEWAY}:{DATADOG_APM_PORT}:{DATADOG_APM_PORT}/tcp",
        "--volume",
        "/var/run/docker.sock:/var/run/docker.sock:ro",
        "--volume",
        "/proc/:/host/proc/:ro",
        "--volume",
        "/sys/fs/cgroup/:/host/sys/fs/cgroup:ro",
        "--volume",
        "/var/lib/docker/containers:/var/lib/docker/containers:ro",
        "--stop-timeout",
        "20",
        DATADOG_AGENT_IMAGE,
    ]


def _prepare_datadog(region: str, secret_arn: str) -> str:
    return f"""#!/bin/bash
# Before every start of the Datadog agent: its API key from its own secret into a root-only env file, and the
# pinned agent image. Never add `set -x`: it would print the key's plumbing into the journal.
set -euo pipefail
umask 077
install -d -m 0700 -o root -g root {CONFIG_DIR}
tmp="$(mktemp {DATADOG_ENV_FILE}.XXXXXX)"
trap 'rm -f "$tmp"' EXIT
key=$(aws secretsmanager get-secret-value --region {shlex.quote(region)} --secret-id {shlex.quote(secret_arn)} \\
  --query SecretString --output text)
printf 'DD_API_KEY=%s\\n' "$key" > "$tmp"
unset key
mv -f "$tmp" {DATADOG_ENV_FILE}
docker image inspect {DATADOG_AGENT_IMAGE} > /dev/null 2>&1 || docker pull --quiet {DATADOG_AGENT_IMAGE} > /dev/null
"""


def datadog_files(datadog: DatadogAgent, *, region: str) -> list[dict[str, str]]:
    unit = _container_unit(
        description="Datadog agent container (metrics, logs, APM traces)",
        container=DATADOG_CONTAINER,
        prepare=PREPARE_DATADOG,
        command=datadog_run_command(datadog),
        stop_seconds=20,
        after=[],
    )
    return [
        _root_file(PREPARE_DATADOG, _prepare_datadog(region, datadog.api_key_secret_arn), "0700"),
        _root_file(f"/etc/systemd/system/{DATADOG_UNIT}", unit, "0644"),
    ]


def datadog_runcmd() -> list[list[str]]:
    return [["systemctl", "enable", "--now", DATADOG_UNIT]]


def host_extras(
    *, region: str, workers: JobWorkers | None, datadog: DatadogAgent | None, lifecycle_hook: str | None = None
) -> HostExtras:
    """What a host runs besides its main service, as cloud-init entries: the Datadog agent first (the first traces
    have somewhere to go), then the job containers, with (worker fleet) or without (colocated) a lifecycle hook."""
    files: list[dict[str, str]] = []
    commands: list[list[str]] = []
    if datadog is not None:
        files += datadog_files(datadog, region=region)
        commands += datadog_runcmd()
    if workers is not None:
        files += job_container_files(workers, lifecycle_hook=lifecycle_hook)
        commands += job_container_runcmd()
    return HostExtras(tuple(files), tuple(tuple(command) for command in commands))
