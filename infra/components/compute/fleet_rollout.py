"""The rollout of each new launch template version through the app fleet (built under the fleet component):
an instance refresh with the version as its DesiredConfiguration, started and followed to its end by
`pulumi up` (pulumi-command's local.Command running `infra.deploy.instance_refresh` on the project's virtualenv,
boto3 with adaptive retries). Why not the provider's `instance_refresh` block: see
infra/planning/compute/rollout.py.

Why a command step and not a dynamic resource: a dynamic provider is serialized with its closure into the
state (the code's bytes change whenever anything it reaches does, and every plan and state would carry them),
runs in a provider host that has to import this project, and under the offline mock engine would be an opaque
`pulumi-python:dynamic:Resource` the policy rules and the cost estimator cannot read. The command's inputs are
plain data: the request, in the plan for review, the same on every machine.

Requirement: AWS credentials where `pulumi up` runs, from its environment (AWS_PROFILE, the CI's role), as for
the AWS provider; the step needs no AWS CLI.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws
import pulumi_command as command

from infra.planning.compute.rollout import ROLLOUT_COMMAND, instance_refresh_request, rollout_environment
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
    group already runs the version, the step sees it and does nothing."""
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
        create=ROLLOUT_COMMAND,
        # An update runs the same step: a changed version (or alarm) rolls out without replacing this resource.
        update=ROLLOUT_COMMAND,
        environment=environment,
        triggers=[template.id, template.latest_version],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[group, *alarms]),
    )
