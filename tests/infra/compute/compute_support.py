"""Helpers for the compute tests: the EC2 stacks' plans, their resources by name, the decoded user data."""

from __future__ import annotations

import base64
import shlex
from functools import cache
from typing import Any

import botocore.session
import yaml
from botocore.model import ServiceModel

from infra.plan.document import Plan
from tests.infra.plans import STACKS, plan_of

# Stack ids (tests/infra/plans.py) whose tier runs the app on EC2, and the tier each one is.
EC2_STACKS = {"dev": "C", "prod": "A", "prod-tier-C": "C"}
EKS_STACKS = ("dev-tier-B", "prod-tier-B")
# The sizes per tier: (min, desired, max).
FLEET_SIZES = {"A": (9, 9, 27), "C": (2, 2, 6)}  # the presets sized from the traffic models

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
AUTO_SCALING_GROUP = "aws:autoscaling/group:Group"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


@cache
def autoscaling_model() -> ServiceModel:
    """The Auto Scaling API's model as botocore (and so the AWS CLI) ships it: what a request must look like."""
    return botocore.session.get_session().get_service_model("autoscaling")


def stack_plan(stack_id: str, extra: tuple[str, ...] = ()) -> Plan:
    stack, overrides = STACKS[stack_id]
    return plan_of(stack, (*overrides, *extra))


WORKER_FLEET = "worker-fleet"
"""The job workers' fleet (issue 16) has a launch template, group and role of its own: `the` without a name means
the app fleet's, and the worker tests name theirs."""
OTHER_FLEETS = (f"{WORKER_FLEET}-", "network-nat-instance-")
"""Name prefixes of the groups and templates beside the app fleet's: the job workers' and development's NAT
instance (a group of one)."""


def the(plan: Plan, type_token: str, name: str | None = None) -> dict[str, Any]:
    """The one resource of a type (and name; without a name, outside the worker fleet and the NAT instance): fails,
    naming them, if there are none or several."""
    found = [
        r
        for r in plan.of_type(type_token)
        if (r["name"] == name if name is not None else not r["name"].startswith(OTHER_FLEETS))
    ]
    assert len(found) == 1, f"{plan.stack}: expected one {type_token} {name or ''}, found {[r['name'] for r in found]}"
    return found[0]


def id_of(resource: dict[str, Any]) -> str:
    """The id the offline engine gives a resource (what other resources' inputs refer to)."""
    return f"{resource['name']}-id"


def user_data_of(plan: Plan) -> str:
    encoded = the(plan, LAUNCH_TEMPLATE, "app-fleet-template")["inputs"]["userData"]
    return base64.b64decode(encoded).decode()


def cloud_config(user_data: str) -> dict[str, Any]:
    assert user_data.startswith("#cloud-config\n"), "user data must be a #cloud-config document"
    document = yaml.safe_load(user_data)
    assert isinstance(document, dict), "the cloud-config document must be a mapping"
    return document


def written_file(document: dict[str, Any], path: str) -> dict[str, Any]:
    files = [f for f in document.get("write_files", []) if f["path"] == path]
    assert len(files) == 1, f"expected {path} once in write_files"
    return files[0]


def unit_directives(unit: str) -> dict[str, list[str]]:
    """`Key=value` lines of a systemd unit, every value of each key in order."""
    directives: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            directives.setdefault(key, []).append(value)
    return directives


def exec_start(document: dict[str, Any], unit_path: str) -> list[str]:
    (command,) = unit_directives(written_file(document, unit_path)["content"])["ExecStart"]
    return shlex.split(command)
