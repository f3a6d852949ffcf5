"""Auto Scaling groups: instances replaced when the load balancer finds them unhealthy, and rolled out from a
pinned launch template version."""

from __future__ import annotations

from collections.abc import Iterator

from infra.policy.model import Resource, get, present

GROUP = "aws:autoscaling/group:Group"
FLOATING_VERSIONS = ("$Latest", "$Default")


def elb_health_check(group: Resource) -> Iterator[str]:
    behind_load_balancer = present(group.inputs, "targetGroupArns") or present(group.inputs, "loadBalancers")
    if behind_load_balancer and get(group.inputs, "healthCheckType") != "ELB":
        yield (
            f"{group.name} serves a load balancer but replaces only instances EC2 finds broken (health check type "
            f"{get(group.inputs, 'healthCheckType') or 'EC2 by default'}): set health_check_type='ELB' with a grace "
            "period, so an instance the target group marks unhealthy is replaced"
        )


def launch_template_version_pinned(group: Resource) -> Iterator[str]:
    versions = [
        get(group.inputs, "launchTemplate", "version"),
        get(group.inputs, "mixedInstancesPolicy", "launchTemplate", "launchTemplateSpecification", "version"),
    ]
    floating = [version for version in versions if version in FLOATING_VERSIONS]
    if floating:
        yield (
            f"{group.name} follows launch template version {floating[0]}: reference the template's latest_version "
            "output instead, so a new version is a visible change and an instance refresh rolls it out"
        )
