"""The worker fleet's user data (workerPlacement dedicated): the app instances' boot (Docker, the CloudWatch
agent, the secret-to-env step, the journal copied for the agent) with the job containers in place of the API."""

from __future__ import annotations

import json
from typing import Any, Final

from infra.planning.compute.job_containers import EXPORTER_UNIT, WORKER_UNIT, JobWorkers, host_extras
from infra.planning.compute.user_data import (
    BOOT_LOG_DIR,
    CLOUDWATCH_AGENT_CONFIG,
    CLOUDWATCH_AGENT_CTL,
    CONFIG_DIR,
    ENV_FILE_WRITER_PROGRAM,
    INSTANCE_ENV_FILE,
    PACKAGES,
    SECRET_TO_ENV_SCRIPT,
    cloudwatch_agent_config,
    journal_copy_unit,
    render_cloud_config,
)

WORKER_UNITS_LOG_FILE: Final = f"{BOOT_LOG_DIR}/worker-units.log"
WORKER_JOURNAL_COPY_UNIT: Final = "contentry-worker-journal.service"
WORKER_JOURNAL_CURSOR_FILE: Final = "/var/lib/contentry/worker-journal.cursor"


def worker_cloud_config(workers: JobWorkers, *, lifecycle_hook: str) -> dict[str, Any]:
    def root_file(path: str, content: str, permissions: str) -> dict[str, str]:
        return {"path": path, "owner": "root:root", "permissions": permissions, "content": content}

    extras = host_extras(region=workers.region, workers=workers, datadog=workers.datadog, lifecycle_hook=lifecycle_hook)
    agent = cloudwatch_agent_config(workers.log_group_name, ((WORKER_UNITS_LOG_FILE, "worker-units"),))
    return {
        "package_update": False,
        "package_upgrade": False,
        "packages": list(PACKAGES),
        "write_files": [
            root_file(SECRET_TO_ENV_SCRIPT, ENV_FILE_WRITER_PROGRAM, "0700"),
            root_file(
                f"/etc/systemd/system/{WORKER_JOURNAL_COPY_UNIT}",
                journal_copy_unit((WORKER_UNIT, EXPORTER_UNIT), WORKER_UNITS_LOG_FILE, WORKER_JOURNAL_CURSOR_FILE),
                "0644",
            ),
            root_file(CLOUDWATCH_AGENT_CONFIG, json.dumps(agent, indent=2), "0644"),
            *extras.write_files,
        ],
        "runcmd": [
            ["systemctl", "enable", "--now", "docker.service"],
            ["install", "-d", "-m", "0700", "-o", "root", "-g", "root", CONFIG_DIR],
            ["sh", "-c", f'printf "INSTANCE_ID=%s\\n" "$(cloud-init query v1.instance_id)" > {INSTANCE_ENV_FILE}'],
            [CLOUDWATCH_AGENT_CTL, "-a", "fetch-config", "-m", "ec2", "-s", "-c", f"file:{CLOUDWATCH_AGENT_CONFIG}"],
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", "--now", WORKER_JOURNAL_COPY_UNIT],
            *([*command] for command in extras.runcmd),
        ],
    }


def render_worker_user_data(workers: JobWorkers, *, lifecycle_hook: str) -> str:
    return render_cloud_config(worker_cloud_config(workers, lifecycle_hook=lifecycle_hook))
