"""Runs every check of verify from a stack's outputs, again until they all pass or `--wait` runs out (targets
register and alarms settle for a minute or two after a deploy), and returns the last round's results.

The outputs verify reads: `url`, `environment`, `albDnsName` (plain HTTP only on it, in development),
`targetGroupName`, `autoScalingGroupName` (tiers A and C) or `appMinReplicas` (tier B), `region`, and
`alertTopicArn` (its subscriptions are confirmed; a stack exported before the topic existed is not asked).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.verify.aws_checks import (
    check_alarms,
    check_alert_subscriptions,
    check_group_capacity,
    check_pod_capacity,
    check_targets,
)
from infra.verify.health_url import UrlCheckArgs, check_url
from infra.verify.result import CheckResult

CHECKS = ("url", "targets", "capacity", "alarms", "alerts")


@dataclass(frozen=True)
class AwsClients:
    elbv2: Any
    autoscaling: Any
    cloudwatch: Any
    tagging: Any
    sns: Any = None

    @classmethod
    def for_region(cls, region: str) -> AwsClients:
        import boto3

        session = boto3.Session(region_name=region)
        return cls(
            elbv2=session.client("elbv2"),
            autoscaling=session.client("autoscaling"),
            cloudwatch=session.client("cloudwatch"),
            tagging=session.client("resourcegroupstaggingapi"),
            sns=session.client("sns"),
        )


@dataclass(frozen=True)
class VerifyOptions:
    ca_bundle: Path | None = None
    wait_seconds: float = 0
    """Retry failed rounds for this long; 0 checks once."""
    interval_seconds: float = 15
    http_timeout_seconds: float = 10


def _text(outputs: Mapping[str, Any], key: str) -> str:
    value = outputs.get(key)
    return value if isinstance(value, str) else ""


def _missing(check: str, key: str, why: str) -> CheckResult:
    return CheckResult.failed(check, f"the stack has no `{key}` output ({why})")


def _minimum_replicas(outputs: Mapping[str, Any]) -> int | None:
    value = outputs.get("appMinReplicas")
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def run_checks(
    outputs: Mapping[str, Any], project: str, stack: str, clients: AwsClients, options: VerifyOptions
) -> list[CheckResult]:
    """One round: every check, each named, none skipped silently."""
    results = []
    url = _text(outputs, "url")
    if url:
        results.append(
            check_url(
                UrlCheckArgs(
                    url=url,
                    environment=_text(outputs, "environment"),
                    alb_dns_name=_text(outputs, "albDnsName"),
                    ca_bundle=options.ca_bundle,
                    timeout_seconds=options.http_timeout_seconds,
                )
            )
        )
    else:
        results.append(_missing("url", "url", "the app's address"))
    target_group = _text(outputs, "targetGroupName")
    if target_group:
        results.append(check_targets(clients.elbv2, target_group))
    else:
        results.append(_missing("targets", "targetGroupName", "the app's target group"))
    group = _text(outputs, "autoScalingGroupName")
    replicas = _minimum_replicas(outputs)
    if group:
        results.append(check_group_capacity(clients.autoscaling, group))
    elif replicas is not None and target_group:
        results.append(check_pod_capacity(clients.elbv2, target_group, replicas))
    else:
        results.append(
            CheckResult.failed(
                "capacity",
                "the stack exports neither `autoScalingGroupName` (tiers A and C) nor `appMinReplicas` with "
                "`targetGroupName` (tier B): its minimum capacity cannot be checked",
            )
        )
    results.append(check_alarms(clients.cloudwatch, clients.tagging, project, stack))
    topic = _text(outputs, "alertTopicArn")
    if topic and clients.sns is not None:
        results.append(check_alert_subscriptions(clients.sns, topic))
    return results


def verify(
    outputs: Mapping[str, Any],
    project: str,
    stack: str,
    clients: AwsClients,
    options: VerifyOptions,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[list[CheckResult]], None] = lambda _: None,
) -> list[CheckResult]:
    """Rounds of `run_checks` until every check passes or `options.wait_seconds` have passed."""
    deadline = clock() + options.wait_seconds
    while True:
        results = run_checks(outputs, project, stack, clients, options)
        if all(r.ok for r in results) or clock() + options.interval_seconds > deadline:
            return results
        on_retry(results)
        sleep(options.interval_seconds)
