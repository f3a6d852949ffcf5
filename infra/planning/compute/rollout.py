"""How a new launch template version reaches the fleet: the StartInstanceRefresh request, the variables the
rollout step reads, and the command `pulumi up` runs for it. Pure: tested directly.

Why not the provider's `instance_refresh` block: the bridged Terraform provider first updates the group to the
new launch template version and only then starts the refresh, without a DesiredConfiguration. AWS rolls back
to "the configuration last saved on the group", which by then is the new, bad version: the rollback replaces
bad instances with bad instances (hashicorp/terraform-provider-aws#34189; the fix, PR #39007, was closed
unmerged). And the provider does not wait, so `pulumi up` reports success for a rollout that fails later.

So the group keeps its launch template out of Pulumi's diffs after creation, and each new version is rolled out
by StartInstanceRefresh with the version as its DesiredConfiguration: AWS moves the group to it only when the
refresh succeeds, and a rollback returns to the version the group ran before. The request is sent, and the
refresh followed to its end, by `infra.deploy.instance_refresh` (boto3, from the project's virtualenv).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from infra.planning.compute.scaling import (
    REFRESH_BAKE_TIME_SECONDS,
    REFRESH_CHECKPOINT_DELAY_SECONDS,
    REFRESH_CHECKPOINTS,
    REFRESH_MAX_HEALTHY_PERCENT,
    REFRESH_MIN_HEALTHY_PERCENT,
)

ROLLOUT_POLL_SECONDS: Final = 30
"""How often the rollout asks for the refresh's status: each batch takes minutes, so this costs nothing."""
ROLLOUT_TIMEOUT_SECONDS: Final = 2 * 60 * 60
"""How long `pulumi up` waits. The largest fleet (12 instances, half at a time, a checkpoint pause and the bake
time) rolls in about 40 minutes and a rollback takes as long again; past two hours something is stuck, and the
refresh goes on in AWS without the deploy."""

SUCCEEDED: Final = "Successful"
FAILED_STATUSES: Final = frozenset({"Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"})
"""Terminal states other than success. `RollbackSuccessful` is a failed deploy: the old version is back."""
ACTIVE_STATUSES: Final = frozenset({"Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking"})
"""A refresh in any of these holds the group: AWS refuses to start another one."""

# The variables the rollout step reads (rollout_environment writes them).
REQUEST_VARIABLE: Final = "REFRESH_REQUEST"
REGION_VARIABLE: Final = "AWS_REGION_NAME"
POLL_VARIABLE: Final = "POLL_SECONDS"
TIMEOUT_VARIABLE: Final = "TIMEOUT_SECONDS"

VIRTUALENV: Final = ".venv"
"""The project's virtualenv, next to Pulumi.yaml (its runtime.options.virtualenv)."""
ROLLOUT_MODULE: Final = "infra.deploy.instance_refresh"


def instance_refresh_request(
    *, group_name: str, launch_template_id: str, version: int | str, alarm_names: Sequence[str]
) -> dict[str, Any]:
    """The StartInstanceRefresh request that rolls `version` through the group: half the fleet first at full
    capacity, a pause while the alarms watch real traffic, then the rest, then a bake time with the alarms still
    armed; rolled back to the group's current version if the refresh fails or an alarm fires."""
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
            "BakeTime": REFRESH_BAKE_TIME_SECONDS,
            # Instances already on the version are kept: re-running the rollout never churns the fleet.
            "SkipMatching": True,
            "AutoRollback": True,
            "AlarmSpecification": {"Alarms": list(alarm_names)},
            "ScaleInProtectedInstances": "Refresh",
            "StandbyInstances": "Terminate",
        },
    }


def rollout_environment(request: Mapping[str, Any], *, region: str) -> dict[str, str]:
    """The variables the rollout step reads: the request, the region and its polling values."""
    return {
        REQUEST_VARIABLE: json.dumps(request, sort_keys=True),
        REGION_VARIABLE: region,
        POLL_VARIABLE: str(ROLLOUT_POLL_SECONDS),
        TIMEOUT_VARIABLE: str(ROLLOUT_TIMEOUT_SECONDS),
    }


ROLLOUT_COMMAND: Final = f"""\
set -eu
# pulumi-command runs this with /bin/sh where `pulumi up` runs, in the directory the engine starts its plugins
# in (the project's, or its main folder). The rollout runs on the project's own virtualenv, the one Pulumi.yaml
# names and `pulumi up` runs the program with: its boto3 is pinned (requirements.txt); a system `aws` or
# `python` may be too old for the request, or missing.
project=$(pwd)
until [ -f "$project/Pulumi.yaml" ]; do
  if [ "$project" = / ]; then
    echo "the rollout found no Pulumi.yaml in $(pwd) or above it: run pulumi up from the project" >&2
    exit 2
  fi
  project=$(dirname "$project")
done
python="$project/{VIRTUALENV}/bin/python"
if [ ! -x "$python" ]; then
  echo "the project's virtualenv ($python) is missing: run make setup, then pulumi up again" >&2
  exit 2
fi
exec "$python" -m {ROLLOUT_MODULE}
"""
"""POSIX sh (pulumi-command's default interpreter is `/bin/sh -c`); the same text on every machine, so the plan
stays reproducible and no deploying machine's paths reach the state."""
