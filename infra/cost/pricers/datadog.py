"""Datadog (datadogEnabled): a third-party bill, not AWS's, priced per host at Datadog's list prices (dated and
sourced in prices.yaml) so that finance sees it beside the AWS lines, never inside them.

Datadog bills a host for every OS instance running its agent (a Kubernetes node counts once, whatever its pods),
metered hourly, the month billed at the high-water mark of the lower 99% of hours. The estimate counts what the
plan starts, as the instances are priced: the EC2 groups whose boot data runs the agent's image (the app and
worker fleets, never the NAT instance), or, when the plan installs the agent's Helm chart, every EKS node. Each
such host is an Infrastructure Pro host and, because the app and workers send traces through ddtrace, an APM
host. Both at the billed-annually price (the on-demand one is higher: see the price table's notes).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from infra.cost.model import Category
from infra.cost.pricers.hosts import Hosts, ec2_hosts_booting, eks_nodes
from infra.cost.pricing import Bill, PricingContext, Resource

AGENT_IMAGE = "datadog/agent"
"""The agent's image in an EC2 host's boot data (public.ecr.aws/datadog/agent:<pinned>)."""
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
CHART = "datadog"
TYPE = "third-party:datadog:Hosts"


def _installs_agent_chart(context: PricingContext) -> bool:
    return any(release.get("chart") == CHART for release in context.plan.of_type(HELM_RELEASE))


def monitored_hosts(context: PricingContext) -> list[Hosts]:
    """The hosts Datadog would bill: EC2 hosts booting the agent, or every EKS node when the chart is installed."""
    hosts = ec2_hosts_booting(context, AGENT_IMAGE)
    if _installs_agent_chart(context):
        hosts += eks_nodes(context)
    return [h for h in hosts if h.count]


def _enabled(config: Mapping[str, Any]) -> bool:
    section = config.get("datadog") or {}
    return str(section.get("datadogEnabled", False)).lower() == "true"


def datadog_bill(context: PricingContext) -> Bill | None:
    """Datadog's per-host lines, or None when the plan runs no agent. With datadogEnabled and no agent in the
    plan (a tier whose agent is not built yet), the bill is an unpriced baseline item, never a silent $0."""
    resource = Resource(urn="", type=TYPE, name="datadog (third party)", parent=None, inputs={})
    hosts = monitored_hosts(context)
    if not hosts:
        if not _enabled(context.config):
            return None
        bill = Bill(resource, context, Category.THIRD_PARTY)
        bill.missing("datadogEnabled, but no host in the plan runs the Datadog agent: its hosts cannot be counted")
        return bill
    count = sum(h.count for h in hosts)
    where = ", ".join(f"{h.count} on {h.group}" for h in hosts)
    bill = Bill(resource, context, Category.THIRD_PARTY)
    bill.add(f"Infrastructure Pro ({count} host(s): {where})", Decimal(count), "datadog.infrastructure-pro.annual")
    bill.add(f"APM ({count} host(s), traces from ddtrace)", Decimal(count), "datadog.apm.annual")
    return bill
