"""The rollout of each new launch template version through the app fleet (built under the fleet component):
an instance refresh with the version as its DesiredConfiguration, started and awaited by `pulumi up` through
the AWS CLI (pulumi-command's local.Command). Why not the provider's `instance_refresh` block: see
infra/planning/compute/rollout.py.

Requirement: the AWS CLI on PATH wherever `pulumi up` runs, with the same credentials as the program (for
example AWS_PROFILE or the CI's role), since it is the CLI, not the AWS provider, that starts the refresh.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws
import pulumi_command as command

from infra.planning.compute.rollout import ROLLOUT_SCRIPT, instance_refresh_request, rollout_environment
from infra.planning.naming import child_name


def roll_out_launch_template(
    parent: pulumi.Resource,
    name: str,
    *,
    region: str,
    group: aws.autoscaling.Group,
    template: aws.ec2.LaunchTemplate,
    alarms: Sequence[aws.cloudwatch.MetricAlarm],
) -> command.local.Command:
    """Runs the rollout whenever the template gets a new version (or a new id). On a new group, or when the
    group already runs the version, the script sees it and does nothing."""
    environment = pulumi.Output.all(
        group.name, template.id, template.latest_version, *(alarm.name for alarm in alarms)
    ).apply(
        lambda values: rollout_environment(
            instance_refresh_request(
                group_name=values[0], launch_template_id=values[1], version=values[2], alarm_names=values[3:]
            ),
            region=region,
        )
    )
    return command.local.Command(
        child_name(name, "rollout"),
        create=ROLLOUT_SCRIPT,
        # An update runs the same script: a changed version (or alarm) rolls out without replacing this resource.
        update=ROLLOUT_SCRIPT,
        environment=environment,
        triggers=[template.id, template.latest_version],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[group, *alarms]),
    )
