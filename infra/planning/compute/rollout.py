"""How a new launch template version reaches the fleet: the StartInstanceRefresh request and the script that
sends it with the AWS CLI and waits for the outcome. Pure: the request and the script are tested directly.

Why not the provider's `instance_refresh` block: the bridged Terraform provider first updates the group to the
new launch template version and only then starts the refresh, without a DesiredConfiguration. AWS rolls back
to "the configuration last saved on the group", which by then is the new, bad version: the rollback replaces
bad instances with bad instances (hashicorp/terraform-provider-aws#34189; the fix, PR #39007, was closed
unmerged). And the provider does not wait, so `pulumi up` reports success for a rollout that fails later.

So the group keeps its launch template out of Pulumi's diffs after creation, and each new version is rolled out
by StartInstanceRefresh with the version as its DesiredConfiguration: AWS moves the group to it only when the
refresh succeeds, and a rollback returns to the version the group ran before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from infra.planning.compute.scaling import (
    REFRESH_CHECKPOINT_DELAY_SECONDS,
    REFRESH_CHECKPOINTS,
    REFRESH_MAX_HEALTHY_PERCENT,
    REFRESH_MIN_HEALTHY_PERCENT,
)

ROLLOUT_POLL_SECONDS: Final = 30
"""How often the script asks for the refresh's status: each batch takes minutes, so this costs nothing."""
ROLLOUT_TIMEOUT_SECONDS: Final = 2 * 60 * 60
"""How long `pulumi up` waits. The largest fleet (12 instances, half at a time, two checkpoint pauses) rolls
in about half an hour and a rollback takes as long again; past two hours something is stuck, and the refresh
goes on in AWS without the deploy."""

SUCCEEDED: Final = "Successful"
FAILED_STATUSES: Final = frozenset({"Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"})
"""Terminal states other than success. `RollbackSuccessful` is a failed deploy: the old version is back."""


def instance_refresh_request(
    *, group_name: str, launch_template_id: str, version: int | str, alarm_names: Sequence[str]
) -> dict[str, Any]:
    """The StartInstanceRefresh request (the AWS CLI's `--cli-input-json`) that rolls `version` through the
    group: half the fleet first at full capacity, a pause while the alarms watch real traffic, then the rest;
    rolled back to the group's current version if the refresh fails or an alarm fires."""
    if not str(version).isdigit():
        # $Latest or $Default would make the rollback impossible (AWS refuses it) and hide what runs.
        raise ValueError(f"launch template version must be a version number, not {version!r}")
    if not alarm_names:
        raise ValueError("an instance refresh with auto rollback needs at least one alarm to watch")
    return {
        "AutoScalingGroupName": group_name,
        "Strategy": "Rolling",
        "DesiredConfiguration": {"LaunchTemplate": {"LaunchTemplateId": launch_template_id, "Version": str(version)}},
        "Preferences": {
            "MinHealthyPercentage": REFRESH_MIN_HEALTHY_PERCENT,
            "MaxHealthyPercentage": REFRESH_MAX_HEALTHY_PERCENT,
            "CheckpointPercentages": list(REFRESH_CHECKPOINTS),
            "CheckpointDelay": REFRESH_CHECKPOINT_DELAY_SECONDS,
            # Instances already on the version are kept: re-running the rollout never churns the fleet.
            "SkipMatching": True,
            "AutoRollback": True,
            "AlarmSpecification": {"Alarms": list(alarm_names)},
            "ScaleInProtectedInstances": "Refresh",
            "StandbyInstances": "Terminate",
        },
    }


def rollout_environment(request: Mapping[str, Any], *, region: str) -> dict[str, str]:
    """The variables ROLLOUT_SCRIPT reads: the request, and the values it polls with."""
    launch_template = request["DesiredConfiguration"]["LaunchTemplate"]
    return {
        "REFRESH_REQUEST": json.dumps(request, sort_keys=True),
        "AUTO_SCALING_GROUP": request["AutoScalingGroupName"],
        "LAUNCH_TEMPLATE_VERSION": launch_template["Version"],
        "AWS_REGION_NAME": region,
        "POLL_SECONDS": str(ROLLOUT_POLL_SECONDS),
        "TIMEOUT_SECONDS": str(ROLLOUT_TIMEOUT_SECONDS),
    }


ROLLOUT_SCRIPT: Final = f"""\
set -eu
# Runs where `pulumi up` runs (pulumi-command's local.Command): it needs the AWS CLI and the same credentials.
if ! command -v aws >/dev/null 2>&1; then
  echo "the AWS CLI (aws) is not on PATH: pulumi up needs it to roll a new launch template version through" \\
       "the fleet (README, Compute). Install it and run pulumi up again." >&2
  exit 127
fi
group="$AUTO_SCALING_GROUP"; version="$LAUNCH_TEMPLATE_VERSION"; region="$AWS_REGION_NAME"
current=$(aws autoscaling describe-auto-scaling-groups --region "$region" --auto-scaling-group-names "$group" \\
  --query 'AutoScalingGroups[0].LaunchTemplate.Version' --output text)
if [ "$current" = "$version" ]; then
  # A new group, or a rollout that already succeeded: the group itself says it runs this version.
  echo "$group already runs launch template version $version: nothing to roll out"
  exit 0
fi
if ! refresh=$(aws autoscaling start-instance-refresh --region "$region" --cli-input-json "$REFRESH_REQUEST" \\
    --query InstanceRefreshId --output text); then
  echo "could not start the instance refresh of $group (if one is already running, wait for it or cancel it:" \\
       "aws autoscaling cancel-instance-refresh --auto-scaling-group-name $group), then run pulumi up again" >&2
  exit 1
fi
echo "instance refresh $refresh started: $group from launch template version $current to $version"
deadline=$(( $(date +%s) + TIMEOUT_SECONDS ))
while :; do
  state=$(aws autoscaling describe-instance-refreshes --region "$region" --auto-scaling-group-name "$group" \\
    --instance-refresh-ids "$refresh" --query 'InstanceRefreshes[0].[Status,PercentageComplete,StatusReason]' \\
    --output text)
  status=$(printf '%s\\n' "$state" | cut -f1)
  case "$status" in
    {SUCCEEDED})
      echo "instance refresh $refresh succeeded: $group runs launch template version $version"
      exit 0 ;;
    {"|".join(sorted(FAILED_STATUSES))})
      echo "instance refresh $refresh ended $status: version $version is NOT deployed" \\
           "(with RollbackSuccessful the fleet is back on version $current). AWS says: $state" >&2
      exit 1 ;;
  esac
  echo "instance refresh $refresh: $state"
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "instance refresh $refresh still running after $TIMEOUT_SECONDS s; it goes on in AWS:" \\
         "aws autoscaling describe-instance-refreshes --auto-scaling-group-name $group" >&2
    exit 1
  fi
  sleep "$POLL_SECONDS"
done
"""
"""POSIX sh (pulumi-command's default interpreter is `/bin/sh -c`); every value comes from the environment."""
