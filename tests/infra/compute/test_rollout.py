"""The rollout of a launch template version: the StartInstanceRefresh request (pure, checked against the Auto
Scaling API's model); the step `pulumi up` runs, driven through botocore's Stubber (which checks every request
and answer against the same model: moto has no instance refresh) with a fake clock, so a two-hour wait takes no
time; and the command that runs it on the project's virtualenv, executed for real by /bin/sh."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from boto3.session import Session
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from botocore.validate import validate_parameters

from infra.deploy.instance_refresh import MAX_ATTEMPTS, Rollout, client_config, main
from infra.planning.compute.rollout import (
    FAILED_STATUSES,
    ROLLOUT_COMMAND,
    ROLLOUT_MODULE,
    ROLLOUT_POLL_SECONDS,
    ROLLOUT_TIMEOUT_SECONDS,
    VIRTUALENV,
    instance_refresh_request,
    rollout_environment,
)
from infra.planning.compute.scaling import REFRESH_BAKE_TIME_SECONDS, REFRESH_CHECKPOINTS
from tests.infra.compute.compute_support import autoscaling_model
from tests.infra.plans import REPO_ROOT

GROUP = "app-fleet-asg-0f1e2d3"
TEMPLATE = "lt-0123456789abcdef0"
ALARMS = ("contentry-prod-app-5xx-rate", "contentry-prod-app-unhealthy-targets")
REFRESH = "08b91cf7-8fa6-48af-b6a6-d227f40f1b9b"
OTHER_REFRESH = "2f6a7c1e-0d3b-4b8e-9a55-5c1d2e3f4a5b"
STARTED = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def request(version: int | str = 7) -> dict[str, Any]:
    return instance_refresh_request(group_name=GROUP, launch_template_id=TEMPLATE, version=version, alarm_names=ALARMS)


# The request (pure).


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


def test_the_second_half_is_watched_too() -> None:
    """After the last checkpoint (100%) AWS pauses no more and cannot roll back: the bake time keeps the alarms
    armed after the last replacement."""
    preferences = request()["Preferences"]
    assert preferences["CheckpointPercentages"][-1] == 100
    assert preferences["BakeTime"] == REFRESH_BAKE_TIME_SECONDS > 0


@pytest.mark.parametrize("version", ["$Latest", "$Default", "", "7a"])
def test_only_a_version_number_can_be_rolled_out(version: str) -> None:
    with pytest.raises(ValueError, match="version number"):
        request(version)


def test_auto_rollback_needs_an_alarm() -> None:
    with pytest.raises(ValueError, match="alarm"):
        instance_refresh_request(group_name=GROUP, launch_template_id=TEMPLATE, version=7, alarm_names=[])


def test_the_environment_carries_the_request_and_its_polling_values() -> None:
    environment = rollout_environment(request(7), region="eu-west-1")
    assert json.loads(environment["REFRESH_REQUEST"]) == request(7)
    assert environment["AWS_REGION_NAME"] == "eu-west-1"
    assert int(environment["POLL_SECONDS"]) == ROLLOUT_POLL_SECONDS > 0
    assert int(environment["TIMEOUT_SECONDS"]) == ROLLOUT_TIMEOUT_SECONDS >= 3600
    assert all(isinstance(value, str) for value in environment.values()), "environment values are strings"


# The step, through the Stubber.


class FakeClock:
    """Time that passes only when the rollout sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def client() -> Any:
    # Stubbed calls are never signed or sent; the session only needs a credential to exist.
    session = Session(aws_access_key_id="AKIAOFFLINETEST", aws_secret_access_key="offline-test-secret")
    return session.client("autoscaling", config=client_config("eu-west-1"))


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def group_on(stub: Stubber, version: str) -> None:
    stub.add_response(
        "describe_auto_scaling_groups",
        {
            "AutoScalingGroups": [
                {
                    "AutoScalingGroupName": GROUP,
                    "LaunchTemplate": {"LaunchTemplateId": TEMPLATE, "Version": version},
                    "MinSize": 4,
                    "MaxSize": 12,
                    "DesiredCapacity": 4,
                    "DefaultCooldown": 300,
                    "AvailabilityZones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
                    "HealthCheckType": "ELB",
                    "CreatedTime": STARTED,
                }
            ]
        },
        {"AutoScalingGroupNames": [GROUP]},
    )


def refresh(status: str, *, refresh_id: str = REFRESH, version: str = "7", **extra: Any) -> dict[str, Any]:
    return {
        "InstanceRefreshId": refresh_id,
        "AutoScalingGroupName": GROUP,
        "Status": status,
        "StartTime": STARTED,
        "PercentageComplete": 50,
        "InstancesToUpdate": 2,
        "DesiredConfiguration": {"LaunchTemplate": {"LaunchTemplateId": TEMPLATE, "Version": version}},
        **extra,
    }


def active_refreshes(stub: Stubber, *refreshes: dict[str, Any]) -> None:
    stub.add_response(
        "describe_instance_refreshes", {"InstanceRefreshes": list(refreshes)}, {"AutoScalingGroupName": GROUP}
    )


def started(stub: Stubber) -> None:
    stub.add_response("start_instance_refresh", {"InstanceRefreshId": REFRESH}, request(7))


def polled(stub: Stubber, *statuses: str, refresh_id: str = REFRESH) -> None:
    for status in statuses:
        stub.add_response(
            "describe_instance_refreshes",
            {"InstanceRefreshes": [refresh(status, refresh_id=refresh_id)]},
            {"AutoScalingGroupName": GROUP, "InstanceRefreshIds": [refresh_id]},
        )


def rollout(client: Any, clock: FakeClock, said: list[str], timeout: float = 3600) -> Rollout:
    return Rollout(
        client,
        request(7),
        poll_seconds=30,
        timeout_seconds=timeout,
        clock=clock,
        sleep=clock.sleep,
        say=said.append,
    )


def test_a_new_version_is_refreshed_and_followed_until_it_succeeds(client: Any, stub: Stubber) -> None:
    group_on(stub, "6")
    active_refreshes(stub)
    started(stub)  # the Stubber checks the request is exactly the planned one
    polled(stub, "Pending", "InProgress", "Baking", "Successful")
    clock, said = FakeClock(), []

    outcome = rollout(client, clock, said).run()

    assert outcome.deployed, outcome.message
    assert outcome.message == f"instance refresh {REFRESH} succeeded: {GROUP} runs launch template version 7"
    assert f"instance refresh {REFRESH} started: {GROUP} from launch template version 6 to 7" in said
    assert any("Baking" in line for line in said), "the bake time is reported while the alarms still watch"
    assert clock.sleeps == [30, 30, 30], "one poll interval between status answers, no real waiting"


@pytest.mark.parametrize("status", sorted(FAILED_STATUSES))
def test_a_failed_or_rolled_back_refresh_fails_pulumi_up(client: Any, stub: Stubber, status: str) -> None:
    group_on(stub, "6")
    active_refreshes(stub)
    started(stub)
    polled(stub, "InProgress")
    stub.add_response(
        "describe_instance_refreshes",
        {
            "InstanceRefreshes": [
                refresh(
                    status,
                    StatusReason="An alarm went into ALARM state",
                    RollbackDetails={"RollbackReason": "alarm contentry-prod-app-5xx-rate"},
                )
            ]
        },
        {"AutoScalingGroupName": GROUP, "InstanceRefreshIds": [REFRESH]},
    )

    outcome = rollout(client, FakeClock(), []).run()

    assert not outcome.deployed
    assert outcome.exit_code == 1
    assert f"ended {status}: version 7 is NOT deployed" in outcome.message
    assert "alarm contentry-prod-app-5xx-rate" in outcome.message
    if status == "RollbackSuccessful":
        assert "rolled the fleet back to version 6" in outcome.message


def test_a_group_already_on_the_version_is_left_alone(client: Any, stub: Stubber) -> None:
    """A new group (created on the version) or a rollout that already succeeded: no refresh at all."""
    group_on(stub, "7")
    outcome = rollout(client, FakeClock(), []).run()
    assert outcome.deployed
    assert "nothing to roll out" in outcome.message


def test_a_refresh_to_the_same_version_left_running_by_an_interrupted_up_is_followed(
    client: Any, stub: Stubber
) -> None:
    group_on(stub, "6")
    active_refreshes(stub, refresh("InProgress", refresh_id=OTHER_REFRESH, version="7"), refresh("Successful"))
    polled(stub, "InProgress", "Successful", refresh_id=OTHER_REFRESH)
    said: list[str] = []
    outcome = rollout(client, FakeClock(), said).run()
    assert outcome.deployed, outcome.message
    assert any("already running: following it" in line for line in said)


def test_a_refresh_to_another_version_blocks_the_deploy_with_the_way_out(client: Any, stub: Stubber) -> None:
    group_on(stub, "6")
    active_refreshes(stub, refresh("InProgress", refresh_id=OTHER_REFRESH, version="8"))
    outcome = rollout(client, FakeClock(), []).run()
    assert not outcome.deployed
    assert f"instance refresh {OTHER_REFRESH} (InProgress, to launch template version 8)" in outcome.message
    assert f"aws autoscaling cancel-instance-refresh --auto-scaling-group-name {GROUP}" in outcome.message


def test_a_refresh_started_meanwhile_is_found_when_aws_refuses_to_start(client: Any, stub: Stubber) -> None:
    group_on(stub, "6")
    active_refreshes(stub)
    stub.add_client_error(
        "start_instance_refresh",
        service_error_code="InstanceRefreshInProgress",
        service_message="An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.",
        http_status_code=400,
        expected_params=request(7),
    )
    active_refreshes(stub, refresh("Pending", refresh_id=OTHER_REFRESH, version="9"))
    outcome = rollout(client, FakeClock(), []).run()
    assert not outcome.deployed
    assert "to launch template version 9" in outcome.message


def test_a_throttled_status_call_is_asked_again_instead_of_failing_the_deploy(client: Any, stub: Stubber) -> None:
    group_on(stub, "6")
    active_refreshes(stub)
    started(stub)
    polled(stub, "InProgress")
    for _ in range(3):
        stub.add_client_error(
            "describe_instance_refreshes",
            service_error_code="Throttling",
            service_message="Rate exceeded",
            http_status_code=400,
            expected_params={"AutoScalingGroupName": GROUP, "InstanceRefreshIds": [REFRESH]},
        )
    polled(stub, "Successful")
    said: list[str] = []
    outcome = rollout(client, FakeClock(), said).run()
    assert outcome.deployed, outcome.message
    assert sum("asking again" in line for line in said) == 3


def test_an_error_that_is_not_transient_stops_the_rollout(client: Any, stub: Stubber) -> None:
    group_on(stub, "6")
    active_refreshes(stub)
    started(stub)
    stub.add_client_error(
        "describe_instance_refreshes",
        service_error_code="AccessDenied",
        service_message="not authorized",
        http_status_code=403,
        expected_params={"AutoScalingGroupName": GROUP, "InstanceRefreshIds": [REFRESH]},
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        rollout(client, FakeClock(), []).run()


def test_a_refresh_that_outlasts_the_wait_fails_and_says_it_goes_on(client: Any, stub: Stubber) -> None:
    group_on(stub, "6")
    active_refreshes(stub)
    started(stub)
    polled(stub, *["InProgress"] * 5)  # 0, 30, 60, 90, 120 s: the fifth answer is at the deadline
    clock = FakeClock()
    outcome = rollout(client, clock, [], timeout=120).run()
    assert not outcome.deployed
    assert f"instance refresh {REFRESH} is still InProgress after 120 s" in outcome.message
    assert f"--instance-refresh-ids {REFRESH}" in outcome.message
    assert clock.now == 120, "the wait ends at its deadline, on the fake clock"


def test_the_client_retries_adaptively() -> None:
    config: Any = client_config("eu-west-1")
    assert config.retries == {"mode": "adaptive", "max_attempts": MAX_ATTEMPTS}
    assert config.region_name == "eu-west-1"


def test_the_step_without_its_variables_says_what_is_missing() -> None:
    assert main({}) == 2


def test_the_step_runs_as_a_module_and_reports_a_missing_request() -> None:
    result = subprocess.run(
        [sys.executable, "-m", ROLLOUT_MODULE], env={}, capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert "REFRESH_REQUEST" in result.stderr


# The command pulumi-command runs.

FAKE_PYTHON = """#!/bin/sh
printf '%s\\n' "$0" "$@" > "$CALLS"
"""


def project(tmp_path: Path, *, with_venv: bool = True) -> Path:
    root = tmp_path / "project"
    (root / "infra").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: contentry\n")
    if with_venv:
        python = root / VIRTUALENV / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.write_text(FAKE_PYTHON)
        python.chmod(0o700)
    return root


@pytest.mark.parametrize("working_directory", [".", "infra"])
def test_the_command_runs_the_module_on_the_project_s_virtualenv(tmp_path: Path, working_directory: str) -> None:
    """From the project's folder or its main folder (where the engine may start plugins), with no system Python
    or AWS CLI on the PATH."""
    root = project(tmp_path)
    calls = tmp_path / "calls"
    result = subprocess.run(
        ["/bin/sh", "-c", ROLLOUT_COMMAND],
        cwd=root / working_directory,
        env={"PATH": "/usr/bin:/bin", "CALLS": str(calls)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert calls.read_text().splitlines() == [str(root / VIRTUALENV / "bin" / "python"), "-m", ROLLOUT_MODULE]


def test_without_the_virtualenv_the_command_says_what_to_run(tmp_path: Path) -> None:
    root = project(tmp_path, with_venv=False)
    result = subprocess.run(
        ["/bin/sh", "-c", ROLLOUT_COMMAND], cwd=root, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "run make setup" in result.stderr


def test_the_command_names_the_virtualenv_pulumi_yaml_names() -> None:
    document = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    assert document["runtime"]["options"]["virtualenv"] == VIRTUALENV
    commands = [line for line in ROLLOUT_COMMAND.splitlines() if not line.lstrip().startswith("#")]
    assert not any("aws" in line.split() for line in commands), "no AWS CLI"
