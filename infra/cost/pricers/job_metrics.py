"""The background jobs' queue metrics in CloudWatch (issue 16): the exporter (`python -m app.jobs.queue_metrics`)
publishes `QueueDepth` and `OldestJobAgeSeconds` to the `Contentry/Jobs` namespace with one dimension, `Stack`.

Neither metric is a resource of the plan: the exporter creates them by publishing. So they are priced on a line of
their own, like the hosted zone, from what the plan runs: every EC2 host whose boot data starts the exporter
(the worker fleet's hosts, or the app's with colocated workers) and every replica of a Deployment running it (tier
B). No exporter in the plan, no line.

- Custom metrics: billed per metric (namespace, name and dimensions), however many hosts publish it: 2 a stack.
- PutMetricData: each publisher sends both values in one request every JOBS_METRICS_INTERVAL_SECONDS (60 s), so a
  publisher makes 43,800 requests in the table's 730-hour month.
CloudWatch's free tier (10 custom metrics, 1 M API requests a month per account) is not deducted: the account's
other metrics (detailed monitoring, the CloudWatch agent's) use it first, and an estimate cannot know their order.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from infra.cost.model import Category, Kind
from infra.cost.pricers.hosts import Hosts, ec2_hosts_booting
from infra.cost.pricing import Bill, PricingContext, Resource, integer

EXPORTER_MODULE = "app.jobs.queue_metrics"
"""The exporter's command (`python -m app.jobs.queue_metrics`, the jobs contract): what marks a publisher."""
NAMESPACE = "Contentry/Jobs"
METRICS = ("QueueDepth", "OldestJobAgeSeconds")
PUBLISH_INTERVAL_SECONDS = 60
"""JOBS_METRICS_INTERVAL_SECONDS' default: the infrastructure sets no other."""
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
TYPE = "config:cloudwatch/customMetrics:Contentry/Jobs"
"""The line's type: no resource of the plan, like the hosted zone the stack uses."""


def _runs_exporter(deployment: Resource) -> bool:
    containers: Any = deployment.get("spec", "template", "spec", "containers", default=[])
    for container in containers if isinstance(containers, list) else []:
        if not isinstance(container, Mapping):
            continue
        words = [*(container.get("command") or []), *(container.get("args") or [])]
        if EXPORTER_MODULE in " ".join(str(word) for word in words):
            return True
    name = deployment.get("metadata", "name", default=deployment.name)
    return "queue-metrics" in str(name)


def exporter_deployments(context: PricingContext) -> list[Hosts]:
    """Tier B: the Deployments running the exporter, by their replicas (1 when unset, as Kubernetes does)."""
    return [
        Hosts(d.name, integer(d.get("spec", "replicas"), 1))
        for d in context.plan.of_type(DEPLOYMENT)
        if _runs_exporter(d)
    ]


def publishers(context: PricingContext) -> list[Hosts]:
    """Every process that publishes the queue metrics, by the group or Deployment it belongs to."""
    return [*ec2_hosts_booting(context, EXPORTER_MODULE), *exporter_deployments(context)]


def requests_per_publisher(hours: Decimal) -> Decimal:
    return hours * 3600 / PUBLISH_INTERVAL_SECONDS


def job_metrics_bill(context: PricingContext) -> Bill | None:
    """The stack's job metrics and the requests that publish them, or None when nothing in the plan publishes."""
    found = [p for p in publishers(context) if p.count]
    if not found:
        return None
    resource = Resource(urn="", type=TYPE, name=f"job-queue-metrics ({NAMESPACE})", parent=None, inputs={})
    bill = Bill(resource, context, Category.MONITORING)
    bill.add(
        f"Custom metrics ({', '.join(METRICS)}, dimension Stack)",
        Decimal(len(METRICS)),
        "cloudwatch.custom-metric",
    )
    count = sum(p.count for p in found)
    where = ", ".join(f"{p.count} on {p.group}" for p in found)
    requests = count * requests_per_publisher(context.hours)
    bill.add(
        f"PutMetricData requests ({count} publisher(s): {where}; one request a minute each)",
        requests / Decimal(1000),
        "cloudwatch.api-requests",
        kind=Kind.USAGE,
    )
    return bill
