"""The background jobs' and Datadog's cost (issue 16) on synthetic plans and through the real plans: the queue
metrics and their PutMetricData requests from what publishes them (worker hosts, colocated app hosts, tier B's
exporter Deployment), Datadog per host as a third-party line only when the plan runs the agent, and the worker
fleet's own lines on tiers A and C."""

from __future__ import annotations

import base64
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from infra.capacity.traffic import monthly_worker_log_gb, traffic_model
from infra.cost.finance import aws_charges
from infra.cost.model import Category, Estimate, Kind
from infra.cost.stacks import estimate_of
from infra.cost.traffic_usage import PlanShape, derive
from tests.cost.support import HOURS, PRICES, TODAY, components, priced, resource
from tests.infra.plans import REPO_ROOT, STACKS, plan_of

ASG = "aws:autoscaling/group:Group"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
METRICS = "job-queue-metrics (Contentry/Jobs)"
DATADOG = "datadog (third party)"
EXPORTER_BOOT = "#cloud-config\nruncmd:\n  - docker run app python -m app.jobs.queue_metrics\n"
AGENT_BOOT = "#cloud-config\nruncmd:\n  - docker run public.ecr.aws/datadog/agent:7.63.3\n"


def fleet(name: str, hosts: int, boot: str, instance_type: str = "c7g.large") -> list[dict[str, Any]]:
    template = resource(
        TEMPLATE,
        f"{name}-template",
        {"instanceType": instance_type, "userData": base64.b64encode(boot.encode()).decode()},
        parent=name,
    )
    group = resource(
        ASG, f"{name}-asg", {"desiredCapacity": hosts, "launchTemplate": {"id": f"{name}-template-id"}}, parent=name
    )
    return [template, group]


def test_two_metrics_a_stack_and_a_request_a_minute_from_each_worker_host() -> None:
    result = priced(*fleet("worker-fleet", 3, EXPORTER_BOOT))
    lines = components(result, METRICS)
    assert lines["Custom metrics (QueueDepth, OldestJobAgeSeconds, dimension Stack)"] == 2 * Decimal("0.30")
    # 3 hosts x 60 requests an hour x 730 hours = 131,400 requests at $0.01 per 1,000.
    (requests,) = [line for line in result.lines if line.resource == METRICS and "PutMetricData" in line.component]
    assert requests.quantity == Decimal(3 * 43_800) / 1000
    assert requests.monthly == Decimal("1.314")
    assert requests.kind is Kind.USAGE
    assert "3 on worker-fleet-asg" in requests.component
    assert {line.source for line in result.lines if line.resource == METRICS} == {
        "aws-cloudwatch-metrics-cost-doc",
        "aws-cloudwatch-pricing",
    }


def test_a_group_whose_hosts_run_no_exporter_publishes_nothing() -> None:
    app_only = priced(*fleet("app-fleet", 9, "#cloud-config\nruncmd:\n  - docker run app gunicorn\n"))
    assert components(app_only, METRICS) == {}
    # Colocated workers: the app hosts run the exporter, so they publish (and the metrics are counted once).
    colocated = priced(*fleet("app-fleet", 2, EXPORTER_BOOT), *fleet("other-fleet", 1, EXPORTER_BOOT))
    (custom,) = [line for line in colocated.lines if line.resource == METRICS and "Custom" in line.component]
    assert custom.quantity == 2
    (requests,) = [line for line in colocated.lines if line.resource == METRICS and "PutMetricData" in line.component]
    assert requests.quantity == Decimal(3 * 43_800) / 1000


def test_tier_b_s_exporter_deployment_publishes_by_its_replicas() -> None:
    exporter = resource(
        DEPLOYMENT,
        "job-workers-metrics",
        {
            "metadata": {"name": "queue-metrics"},
            "spec": {
                "replicas": 1,
                "template": {"spec": {"containers": [{"command": ["python", "-m", "app.jobs.queue_metrics"]}]}},
            },
        },
    )
    worker = resource(DEPLOYMENT, "job-workers-worker", {"metadata": {"name": "worker"}, "spec": {"replicas": 2}})
    result = priced(exporter, worker, tier="B")
    (requests,) = [line for line in result.lines if line.resource == METRICS and "PutMetricData" in line.component]
    assert requests.quantity == Decimal(43_800) / 1000
    assert "1 on job-workers-metrics" in requests.component


def test_datadog_is_a_third_party_line_per_agent_host_at_the_annual_list_prices() -> None:
    hosts = [*fleet("app-fleet", 9, AGENT_BOOT), *fleet("worker-fleet", 2, AGENT_BOOT + EXPORTER_BOOT)]
    nat = fleet("network-nat-instance", 1, "#cloud-config\n", instance_type="t4g.nano")
    result = priced(*hosts, *nat)
    lines = [line for line in result.lines if line.resource == DATADOG]
    assert {line.category for line in lines} == {Category.THIRD_PARTY}
    assert {line.price_key: line.quantity for line in lines} == {
        "datadog.infrastructure-pro.annual": 11,
        "datadog.apm.annual": 11,
    }
    assert sum(line.monthly for line in lines) == 11 * (Decimal(15) + Decimal(31))
    assert {line.source for line in lines} == {"datadog-pricing", "datadog-apm-billing"}
    # Finance reads it apart: AWS's charges (and Business Support on them) leave it out.
    assert aws_charges(result) == result.total - 11 * 46


def test_no_agent_no_datadog_line_and_enabled_without_an_agent_is_unpriced_not_zero() -> None:
    result = priced(*fleet("app-fleet", 9, EXPORTER_BOOT))
    assert not [line for line in result.lines if line.resource == DATADOG]
    config = {"aws:region": "us-east-1", "tier": "A", "datadog": {"datadogEnabled": True}}
    enabled = priced(*fleet("app-fleet", 9, EXPORTER_BOOT), config=config)
    (missing,) = [u for u in enabled.unpriced if u.resource == DATADOG]
    assert missing.kind is Kind.BASELINE
    assert "no host in the plan runs the Datadog agent" in missing.reason


def test_tier_b_pays_datadog_for_every_node_once_the_chart_is_installed() -> None:
    nodes = resource(
        "aws:eks/nodeGroup:NodeGroup",
        "cluster-nodes",
        {"instanceTypes": ["c7g.2xlarge"], "scalingConfig": {"desiredSize": 3, "minSize": 3, "maxSize": 6}},
    )
    without = priced(nodes, tier="B")
    assert not [line for line in without.lines if line.resource == DATADOG]
    chart = resource("kubernetes:helm.sh/v3:Release", "datadog-agent-release", {"chart": "datadog"})
    result = priced(nodes, chart, tier="B")
    quantities = {line.price_key: line.quantity for line in result.lines if line.resource == DATADOG}
    assert quantities == {"datadog.infrastructure-pro.annual": 3, "datadog.apm.annual": 3}


def stack_estimate(stack_id: str, *extra: str) -> Estimate:
    stack, overrides = STACKS[stack_id]
    return estimate_of(plan_of(stack, (*overrides, *extra)), REPO_ROOT, None, PRICES, TODAY)


@pytest.mark.parametrize(("stack_id", "hosts", "instance_type"), [("prod", 2, "c7g.large"), ("dev", 1, "t4g.small")])
def test_the_worker_fleet_is_priced_on_tiers_a_and_c(stack_id: str, hosts: int, instance_type: str) -> None:
    result = stack_estimate(stack_id)
    lines = components(result, "worker-fleet-asg")
    assert (
        lines[f"{hosts} x {instance_type} (Linux, on-demand)"]
        == hosts * HOURS * PRICES.get(f"ec2.instance.{instance_type}").usd
    )
    assert any(component.startswith("Storage (gp3") for component in lines)
    assert components(result, "worker-fleet-logs")["Data ingested"] > 0
    assert components(result, "monitoring-jobs-queue-depth")
    requests = [line for line in result.lines if line.resource == METRICS and "PutMetricData" in line.component]
    assert [line.quantity for line in requests] == [Decimal(hosts * 43_800) / 1000]
    assert not [line for line in result.lines if line.resource == DATADOG], "datadog is off by default"


def test_colocated_workers_add_no_fleet_only_their_logs_and_the_app_hosts_publish() -> None:
    result = stack_estimate("dev", "workerPlacement=colocated")
    assert not [line for line in result.lines if line.resource.startswith("worker-fleet")]
    (requests,) = [line for line in result.lines if line.resource == METRICS and "PutMetricData" in line.component]
    assert "on app-fleet-asg" in requests.component
    # The usage of that shape (what the finance what-ifs price): the workers' lines join the app's log group.
    model = traffic_model("C")
    dedicated = PlanShape.of_tier("C")
    colocated = replace(dedicated, worker_hosts=0)

    def ingested(shape: PlanShape) -> dict[str | None, Decimal]:
        return {e.pattern: e.value for e in derive(model, shape).entries if e.key == "ingestedGb"}

    assert "*worker-fleet-logs*" not in ingested(colocated)
    assert ingested(colocated)["*app-fleet-logs*"] == (
        ingested(dedicated)["*app-fleet-logs*"] + ingested(dedicated)["*worker-fleet-logs*"]
    )
    assert ingested(dedicated)["*worker-fleet-logs*"] == monthly_worker_log_gb(model) > 0


def test_datadog_on_prod_counts_every_app_and_worker_host_and_never_the_nat() -> None:
    result = stack_estimate("prod", "datadogEnabled=true", "datadogApiKey=0123456789abcdef0123456789abcdef")
    (infra_line,) = [line for line in result.lines if line.price_key == "datadog.infrastructure-pro.annual"]
    assert infra_line.quantity == 9 + 2
    assert "9 on app-fleet-asg" in infra_line.component
    assert "2 on worker-fleet-asg" in infra_line.component
    assert result.by_category()[Category.THIRD_PARTY] == 11 * 46
