"""The rollout of a launch template version: the StartInstanceRefresh request (pure, checked against the Auto
Scaling API's model), and the script `pulumi up` runs, executed for real by /bin/sh (pulumi-command's default
interpreter) with a stand-in `aws` that checks each call the way the CLI would and answers like AWS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.validate import validate_parameters

from infra.planning.compute.rollout import (
    FAILED_STATUSES,
    ROLLOUT_SCRIPT,
    instance_refresh_request,
    rollout_environment,
)
from infra.planning.compute.scaling import REFRESH_CHECKPOINTS
from tests.infra.compute.compute_support import autoscaling_model

GROUP = "app-fleet-asg-0f1e2d3"
TEMPLATE = "lt-0123456789abcdef0"
ALARMS = ("contentry-prod-app-5xx-rate", "contentry-prod-app-unhealthy-targets")


def request(version: int | str = 7) -> dict[str, Any]:
    return instance_refresh_request(group_name=GROUP, launch_template_id=TEMPLATE, version=version, alarm_names=ALARMS)


def test_the_request_is_what_the_auto_scaling_api_accepts() -> None:
    validate_parameters(request(), autoscaling_model().operation_model("StartInstanceRefresh").input_shape)


def test_the_request_names_the_version_so_a_rollback_returns_to_the_previous_one() -> None:
    built = request(12)
    assert built["DesiredConfiguration"] == {"LaunchTemplate": {"LaunchTemplateId": TEMPLATE, "Version": "12"}}
    preferences = built["Preferences"]
    assert preferences["AutoRollback"] is True
    assert preferences["AlarmSpecification"] == {"Alarms": list(ALARMS)}
    assert preferences["CheckpointPercentages"] == list(REFRESH_CHECKPOINTS)
    assert preferences["SkipMatching"] is True


@pytest.mark.parametrize("version", ["$Latest", "$Default", "", "7a"])
def test_only_a_version_number_can_be_rolled_out(version: str) -> None:
    with pytest.raises(ValueError, match="version number"):
        request(version)


def test_auto_rollback_needs_an_alarm() -> None:
    with pytest.raises(ValueError, match="alarm"):
        instance_refresh_request(group_name=GROUP, launch_template_id=TEMPLATE, version=7, alarm_names=[])


# The stand-in CLI: validates `--cli-input-json` against the same botocore model the AWS CLI uses, logs every
# call, and answers the group's version and then one refresh status per poll from files the test writes.
FAKE_AWS = """#!{python}
import json, os, sys
from pathlib import Path
from botocore.session import get_session
from botocore.validate import validate_parameters

args = sys.argv[1:]
with open(os.environ["CALLS"], "a") as log:
    log.write(json.dumps(args) + "\\n")
def option(name):
    return args[args.index(name) + 1]
assert option("--region") == "eu-west-1", "every call names the stack's region"
operation = args[1]
if operation == "describe-auto-scaling-groups":
    assert option("--auto-scaling-group-names") == "{group}"
    print(os.environ["FAKE_GROUP_VERSION"])
elif operation == "start-instance-refresh":
    if os.environ.get("FAKE_START_ERROR"):
        sys.exit("An error occurred (InstanceRefreshInProgress) when calling the StartInstanceRefresh operation")
    model = get_session().get_service_model("autoscaling").operation_model("StartInstanceRefresh")
    validate_parameters(json.loads(option("--cli-input-json")), model.input_shape)
    print("refresh-0001")
elif operation == "describe-instance-refreshes":
    assert option("--instance-refresh-ids") == "refresh-0001"
    statuses = Path(os.environ["FAKE_STATUSES"])
    pending = statuses.read_text().splitlines()
    status = pending[0] if pending else "InProgress"
    statuses.write_text("\\n".join(pending[1:]))
    print(f"{{status}}\\t50\\tNone")
else:
    sys.exit(f"unexpected aws call: {{args}}")
"""


def run_rollout(
    tmp_path: Path,
    *,
    group_version: str,
    statuses: list[str],
    extra: dict[str, str] | None = None,
    with_aws: bool = True,
) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if with_aws:
        fake = bin_dir / "aws"
        fake.write_text(FAKE_AWS.format(python=sys.executable, group=GROUP))
        fake.chmod(0o700)
    (tmp_path / "statuses").write_text("\n".join(statuses))
    calls = tmp_path / "calls.log"
    calls.touch()
    system_path = "/usr/bin:/bin"
    environment = {
        **rollout_environment(request(7), region="eu-west-1"),
        "POLL_SECONDS": "0",
        "PATH": f"{bin_dir}:{system_path}" if with_aws else str(bin_dir),
        "CALLS": str(calls),
        "FAKE_GROUP_VERSION": group_version,
        "FAKE_STATUSES": str(tmp_path / "statuses"),
        **(extra or {}),
    }
    result = subprocess.run(
        ["/bin/sh", "-c", ROLLOUT_SCRIPT], env=environment, capture_output=True, text=True, check=False, timeout=60
    )
    return result, [json.loads(line) for line in calls.read_text().splitlines()]


def operations(calls: list[list[str]]) -> list[str]:
    return [call[1] for call in calls]


def test_a_new_version_is_refreshed_and_awaited_until_it_succeeds(tmp_path: Path) -> None:
    result, calls = run_rollout(tmp_path, group_version="6", statuses=["Pending", "InProgress", "Successful"])
    assert result.returncode == 0, result.stderr
    assert operations(calls) == [
        "describe-auto-scaling-groups",
        "start-instance-refresh",
        "describe-instance-refreshes",
        "describe-instance-refreshes",
        "describe-instance-refreshes",
    ]
    sent = json.loads(calls[1][calls[1].index("--cli-input-json") + 1])
    assert sent == request(7)
    assert "succeeded" in result.stdout
    assert "from launch template version 6 to 7" in result.stdout


@pytest.mark.parametrize("status", sorted(FAILED_STATUSES))
def test_a_rolled_back_or_failed_refresh_fails_pulumi_up(tmp_path: Path, status: str) -> None:
    result, _ = run_rollout(tmp_path, group_version="6", statuses=["InProgress", status])
    assert result.returncode == 1
    assert f"ended {status}: version 7 is NOT deployed" in result.stderr


def test_a_group_already_on_the_version_is_left_alone(tmp_path: Path) -> None:
    """A new group (created on the version) or a rollout that already succeeded: no refresh at all."""
    result, calls = run_rollout(tmp_path, group_version="7", statuses=[])
    assert result.returncode == 0, result.stderr
    assert operations(calls) == ["describe-auto-scaling-groups"]
    assert "nothing to roll out" in result.stdout


def test_a_refresh_that_cannot_start_fails_with_the_way_out(tmp_path: Path) -> None:
    result, calls = run_rollout(tmp_path, group_version="6", statuses=[], extra={"FAKE_START_ERROR": "1"})
    assert result.returncode == 1
    assert "InstanceRefreshInProgress" in result.stderr
    assert "cancel-instance-refresh" in result.stderr
    assert "describe-instance-refreshes" not in operations(calls)


def test_a_refresh_that_outlasts_the_wait_fails_and_says_it_goes_on(tmp_path: Path) -> None:
    result, _ = run_rollout(tmp_path, group_version="6", statuses=["InProgress"], extra={"TIMEOUT_SECONDS": "0"})
    assert result.returncode == 1
    assert "still running" in result.stderr


def test_without_the_aws_cli_the_rollout_says_what_is_missing(tmp_path: Path) -> None:
    result, calls = run_rollout(tmp_path, group_version="6", statuses=[], with_aws=False)
    assert result.returncode == 127
    assert "AWS CLI (aws) is not on PATH" in result.stderr
    assert calls == []


def test_the_environment_carries_the_request_and_its_polling_values() -> None:
    environment = rollout_environment(request(7), region="eu-west-1")
    assert json.loads(environment["REFRESH_REQUEST"]) == request(7)
    assert environment["AUTO_SCALING_GROUP"] == GROUP
    assert environment["LAUNCH_TEMPLATE_VERSION"] == "7"
    assert int(environment["POLL_SECONDS"]) > 0
    assert int(environment["TIMEOUT_SECONDS"]) >= 3600
    assert all(isinstance(value, str) for value in environment.values()), "environment values are strings"
    assert environment["AWS_REGION_NAME"] == "eu-west-1"
