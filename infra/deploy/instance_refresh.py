"""Rolls a launch template version through the app fleet and follows it to the end: the step `pulumi up` runs
(fleet_rollout.py) whenever the template gets a new version. `python -m infra.deploy.instance_refresh`, with the
variables of `infra.planning.compute.rollout.rollout_environment`.

boto3 from the project's virtualenv, not the AWS CLI: the pinned SDK knows every field of the request
(MaxHealthyPercentage, AlarmSpecification, AutoRollback and BakeTime are all recent; an older system CLI refuses
them). Its adaptive retry mode backs off and rate-limits itself when Auto Scaling throttles; a describe call
that still fails on throttling or the network is tolerated and asked again at the next poll, because the
refresh goes on in AWS regardless, and aborting `pulumi up` over one lost status answer would fail a good
deploy.

Outcomes: the version deployed (exit 0, also when the group already runs it); the refresh failed or was rolled
back, another refresh holds the group, or the wait ran out (exit 1, saying which and what to do); the step was
run without its variables (exit 2).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from boto3.session import Session
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from infra.planning.compute.rollout import (
    ACTIVE_STATUSES,
    FAILED_STATUSES,
    POLL_VARIABLE,
    REGION_VARIABLE,
    REQUEST_VARIABLE,
    SUCCEEDED,
    TIMEOUT_VARIABLE,
)

MAX_ATTEMPTS: Final = 10
"""Attempts per call under adaptive retries: about a minute of backing off before a call gives up."""
TRANSIENT_ERROR_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ResourceContention",  # Auto Scaling's "busy, try again"
        "ServiceUnavailable",
        "InternalFailure",
    }
)
IN_PROGRESS_CODE: Final = "InstanceRefreshInProgress"


def client_config(region: str) -> Config:
    """Adaptive retries: exponential backoff with jitter, plus a client-side rate limit that slows down as soon
    as Auto Scaling throttles (botocore's retry modes; standard mode only backs off)."""
    return Config(
        region_name=region,
        retries={"mode": "adaptive", "max_attempts": MAX_ATTEMPTS},
        connect_timeout=10,
        read_timeout=30,
        user_agent_extra="contentry-rollout",
    )


@dataclass(frozen=True)
class Outcome:
    deployed: bool
    message: str

    @property
    def exit_code(self) -> int:
        return 0 if self.deployed else 1


def is_transient(error: Exception) -> bool:
    """Throttled, busy, or unreachable: worth asking again."""
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") in TRANSIENT_ERROR_CODES
    return isinstance(error, BotoConnectionError | HTTPClientError)


class Rollout:
    """One refresh of `request["AutoScalingGroupName"]` to the request's launch template version."""

    def __init__(
        self,
        client: Any,
        request: Mapping[str, Any],
        *,
        poll_seconds: float,
        timeout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        say: Callable[[str], None] = print,
    ) -> None:
        self._client = client
        self._request = request
        self._group: str = request["AutoScalingGroupName"]
        template = request["DesiredConfiguration"]["LaunchTemplate"]
        self._template_id: str = template["LaunchTemplateId"]
        self._version: str = str(template["Version"])
        self._poll_seconds = poll_seconds
        self._timeout_seconds = timeout_seconds
        self._clock = clock
        self._sleep = sleep
        self._say = say

    def run(self) -> Outcome:
        current = self._group_version()
        if current == self._version:
            # A new group (created on the version) or a rollout that already succeeded: the group says so itself.
            return Outcome(
                True, f"{self._group} already runs launch template version {self._version}: nothing to roll out"
            )
        running = self._active_refresh()
        if running is not None:
            return self._follow_or_refuse(running, current)
        try:
            refresh_id = self._client.start_instance_refresh(**self._request)["InstanceRefreshId"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != IN_PROGRESS_CODE:
                raise
            # Started meanwhile by someone else (or by an earlier attempt whose answer was lost).
            running = self._active_refresh()
            if running is None:
                raise
            return self._follow_or_refuse(running, current)
        self._say(
            f"instance refresh {refresh_id} started: {self._group} from launch template version {current} to"
            f" {self._version}"
        )
        return self._wait(refresh_id, current)

    def _group_version(self) -> str | None:
        groups = self._client.describe_auto_scaling_groups(AutoScalingGroupNames=[self._group])["AutoScalingGroups"]
        if not groups:
            raise LookupError(f"Auto Scaling group {self._group} does not exist")
        template = groups[0].get("LaunchTemplate") or {}
        version = template.get("Version")
        return None if version is None else str(version)

    def _active_refresh(self) -> Mapping[str, Any] | None:
        # Newest first; at most one refresh is active at a time.
        refreshes = self._client.describe_instance_refreshes(AutoScalingGroupName=self._group)["InstanceRefreshes"]
        return next((r for r in refreshes if r.get("Status") in ACTIVE_STATUSES), None)

    def _follow_or_refuse(self, running: Mapping[str, Any], current: str | None) -> Outcome:
        refresh_id = running["InstanceRefreshId"]
        target = (running.get("DesiredConfiguration") or {}).get("LaunchTemplate") or {}
        if target.get("LaunchTemplateId") == self._template_id and str(target.get("Version")) == self._version:
            # An earlier `pulumi up` started it and was interrupted: follow it instead of failing.
            self._say(f"instance refresh {refresh_id} to version {self._version} is already running: following it")
            return self._wait(refresh_id, current)
        return Outcome(
            False,
            f"instance refresh {refresh_id} ({running.get('Status')}, to launch template version"
            f" {target.get('Version', 'unknown')}) is already running on {self._group}, so version {self._version}"
            " cannot start: wait for it to end, or cancel it (aws autoscaling cancel-instance-refresh"
            f" --auto-scaling-group-name {self._group}), then run pulumi up again",
        )

    def _wait(self, refresh_id: str, previous: str | None) -> Outcome:
        deadline = self._clock() + self._timeout_seconds
        last_report = ""
        status = "Pending"
        while True:
            refresh = self._describe(refresh_id)
            if refresh is not None:
                status = refresh["Status"]
                if status == SUCCEEDED:
                    return Outcome(
                        True,
                        f"instance refresh {refresh_id} succeeded: {self._group} runs launch template version"
                        f" {self._version}",
                    )
                if status in FAILED_STATUSES:
                    return Outcome(False, self._failure(refresh_id, refresh, previous))
                report = self._progress(refresh_id, refresh)
                if report != last_report:
                    self._say(report)
                    last_report = report
            if self._clock() >= deadline:
                return Outcome(
                    False,
                    f"instance refresh {refresh_id} is still {status} after {self._timeout_seconds:g} s; it goes on in"
                    f" AWS without this deploy: aws autoscaling describe-instance-refreshes --auto-scaling-group-name"
                    f" {self._group} --instance-refresh-ids {refresh_id}",
                )
            self._sleep(self._poll_seconds)

    def _describe(self, refresh_id: str) -> Mapping[str, Any] | None:
        try:
            refreshes = self._client.describe_instance_refreshes(
                AutoScalingGroupName=self._group, InstanceRefreshIds=[refresh_id]
            )["InstanceRefreshes"]
        except (ClientError, BotoConnectionError, HTTPClientError) as error:
            if not is_transient(error):
                raise
            # The refresh goes on in AWS regardless: ask again at the next poll rather than fail the deploy.
            self._say(f"instance refresh {refresh_id}: no status this time ({error}); asking again")
            return None
        if not refreshes:
            raise LookupError(f"instance refresh {refresh_id} of {self._group} is not listed")
        return refreshes[0]

    def _progress(self, refresh_id: str, refresh: Mapping[str, Any]) -> str:
        parts = [f"instance refresh {refresh_id}: {refresh['Status']}"]
        if refresh.get("PercentageComplete") is not None:
            parts.append(f"{refresh['PercentageComplete']}% complete")
        if refresh.get("InstancesToUpdate") is not None:
            parts.append(f"{refresh['InstancesToUpdate']} instances to update")
        if refresh.get("StatusReason"):
            parts.append(str(refresh["StatusReason"]))
        return ", ".join(parts)

    def _failure(self, refresh_id: str, refresh: Mapping[str, Any], previous: str | None) -> str:
        status = refresh["Status"]
        message = f"instance refresh {refresh_id} ended {status}: version {self._version} is NOT deployed"
        if status == "RollbackSuccessful":
            message += f"; AWS rolled the fleet back to version {previous}"
        details = refresh.get("RollbackDetails") or {}
        reasons = [str(reason) for reason in (refresh.get("StatusReason"), details.get("RollbackReason")) if reason]
        if reasons:
            message += ". AWS says: " + " / ".join(reasons)
        return message + ". Set appImageTag back to the last good release (or fix it) and run pulumi up again"


def main(environment: Mapping[str, str] | None = None) -> int:
    env = os.environ if environment is None else environment
    missing = [name for name in (REQUEST_VARIABLE, REGION_VARIABLE) if not env.get(name)]
    if missing:
        print(
            f"the rollout needs {', '.join(missing)} (pulumi up sets them: infra/components/compute/fleet_rollout.py)",
            file=sys.stderr,
        )
        return 2
    request = json.loads(env[REQUEST_VARIABLE])
    client = Session().client("autoscaling", config=client_config(env[REGION_VARIABLE]))
    rollout = Rollout(
        client,
        request,
        poll_seconds=float(env.get(POLL_VARIABLE, "30")),
        timeout_seconds=float(env.get(TIMEOUT_VARIABLE, "7200")),
        say=lambda line: print(line, flush=True),
    )
    try:
        outcome = rollout.run()
    except (ClientError, BotoConnectionError, HTTPClientError, LookupError) as error:
        print(f"the rollout of {request['AutoScalingGroupName']} stopped: {error}", file=sys.stderr)
        return 1
    print(outcome.message, file=sys.stdout if outcome.deployed else sys.stderr, flush=True)
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
