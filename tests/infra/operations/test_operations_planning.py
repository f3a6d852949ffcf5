"""The pure builders of operations and edge security, without mocks: policies, alarm specs, the dashboard, the WAF
rules, the budget, the trail's policies and Atlas's audit filter."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest

from infra.config.model import AlarmSettings, WafMode
from infra.planning.audit.atlas_auditing import AUDITED_ACTIONS, audit_filter, supports_auditing
from infra.planning.audit.trail import trail_arn, trail_bucket_policy, trail_key_policy, trail_name
from infra.planning.compute.user_data import cloudwatch_agent_config
from infra.planning.edge.waf import (
    BODY_SIZE_LABEL,
    BODY_SIZE_RULE,
    INCLUDED_WCU,
    MANAGED_RULE_GROUPS,
    capacity_units,
    large_body_path_pattern,
    log_delivery_policy,
    log_group_name,
    logging_filter,
    redacted_fields,
    web_acl_rules,
)
from infra.planning.operations.alarms import (
    CONTAINER_INSIGHTS_NAMESPACE,
    HEALTHY_HOSTS_MINUTES,
    AlarmSpec,
    Ec2Fleet,
    EksFleet,
    LoadBalancerTarget,
    MissingData,
    cache_alarms,
    healthy_hosts_alarm,
    host_alarms,
    nat_alarm,
    traffic_alarms,
)
from infra.planning.operations.alerting import alert_key_policy, alert_topic_policy
from infra.planning.operations.budget import budget_alerts, budget_amount, cost_allocation_filter
from infra.planning.operations.dashboard import GRID_WIDTH, DashboardTargets, WebAclMetrics, dashboard_body

ACCOUNT = "123456789012"
TARGET = LoadBalancerTarget("app/alb/1", "targetgroup/tg/2")
SEED = AlarmSettings()


def statements(document: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(document)["Statement"]}


# Alert routing


def test_the_alerts_key_lets_cloudwatch_and_budgets_publish_and_the_account_administer_it() -> None:
    policy = statements(alert_key_policy(ACCOUNT))
    assert policy["AccountAdministersTheKeyThroughIam"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    publishers = policy["PublishersEncryptAlerts"]
    assert set(publishers["Principal"]["Service"]) == {"cloudwatch.amazonaws.com", "budgets.amazonaws.com"}
    assert set(publishers["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_the_topic_admits_only_this_accounts_alarms_and_budgets_and_only_over_tls() -> None:
    topic = f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts"
    policy = statements(alert_topic_policy(topic_arn=topic, account_id=ACCOUNT, region="eu-west-1"))
    alarms, budgets = policy["CloudWatchAlarmsPublish"], policy["BudgetsPublish"]
    assert alarms["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:*"
    assert budgets["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:budgets::{ACCOUNT}:*"
    for statement in (alarms, budgets):
        assert statement["Action"] == "SNS:Publish"
        assert statement["Resource"] == topic
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    deny = policy["PublishOnlyOverTls"]
    assert (deny["Effect"], deny["Principal"], deny["Condition"]) == (
        "Deny",
        "*",
        {"Bool": {"aws:SecureTransport": "false"}},
    )


# Alarms


def test_the_seeds_traffic_alerts_take_their_thresholds_from_config() -> None:
    latency, errors = traffic_alarms(TARGET, SEED)
    (metric,) = latency.metrics
    # TargetResponseTime is in seconds: the seed's 500 ms is 0.5.
    assert (metric.name, metric.stat, latency.threshold) == ("TargetResponseTime", "p95", 0.5)
    assert errors.threshold == 1.0
    assert {m.name for m in errors.metrics} == {"HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "RequestCount"}
    assert errors.expression is not None
    assert all(m.query_id in errors.expression for m in errors.metrics)
    custom = AlarmSettings(latency_p95_ms=250, error_rate_percent=Decimal("0.5"))
    assert [a.threshold for a in traffic_alarms(TARGET, custom)] == [0.25, 0.5]
    assert {a.missing_data for a in (latency, errors)} == {MissingData.NOT_BREACHING}


def test_healthy_hosts_below_the_minimum_longer_than_a_replacement() -> None:
    alarm = healthy_hosts_alarm(TARGET, 4, what="instances")
    assert (alarm.comparison, alarm.threshold, alarm.periods) == ("LessThanThreshold", 4.0, HEALTHY_HOSTS_MINUTES)
    assert alarm.missing_data is MissingData.BREACHING
    with pytest.raises(ValueError, match="at least 1"):
        healthy_hosts_alarm(TARGET, 0, what="pods")


def test_the_agents_metrics_are_watched_with_exactly_the_dimensions_it_publishes() -> None:
    """An alarm names a metric's full dimension set; the agent publishes mem/disk per instance (with path, device,
    ...) and aggregated by group only: the alarm must watch the aggregated series."""
    agent = cloudwatch_agent_config("/contentry-prod/api")["metrics"]
    published_sets = [set(dimensions) for dimensions in agent["aggregation_dimensions"]]
    # The agent names a metric <section>_<measurement>, unless the measurement already carries the prefix.
    collected = {
        measurement if measurement.startswith(f"{section}_") else f"{section}_{measurement}"
        for section, spec in agent["metrics_collected"].items()
        for measurement in spec["measurement"]
    }
    cpu, memory, disk = host_alarms(Ec2Fleet("asg-1"), SEED)
    assert cpu.metrics[0].namespace == "AWS/EC2"
    for alarm in (memory, disk):
        (metric,) = alarm.metrics
        assert metric.namespace == agent["namespace"]
        assert metric.name in collected
        assert set(metric.dimensions) in published_sets
    assert [a.threshold for a in (cpu, memory, disk)] == [85.0, 90.0, 85.0]


def test_tier_b_watches_the_nodes_through_container_insights() -> None:
    alarms = host_alarms(EksFleet("contentry-prod"), SEED)
    for alarm in alarms:
        (metric,) = alarm.metrics
        assert metric.namespace == CONTAINER_INSIGHTS_NAMESPACE
        assert dict(metric.dimensions) == {"ClusterName": "contentry-prod"}
    assert [a.metrics[0].name for a in alarms] == [
        "node_cpu_utilization",
        "node_memory_utilization",
        "node_filesystem_utilization",
    ]


def test_the_cache_alarms_watch_the_worst_node_and_replication_lag_only_with_a_replica() -> None:
    single = cache_alarms(["c-001"], SEED, has_replica=False)
    assert [a.slug for a in single] == ["cache-cpu", "cache-memory", "cache-evictions"]
    paired = cache_alarms(["c-001", "c-002"], SEED, has_replica=True)
    assert [a.slug for a in paired][-1] == "cache-replication-lag"
    for alarm in paired:
        assert alarm.expression == "MAX([node0, node1])"
        assert [dict(m.dimensions) for m in alarm.metrics] == [{"CacheClusterId": "c-001"}, {"CacheClusterId": "c-002"}]
    lag = paired[-1]
    assert lag.missing_data is MissingData.NOT_BREACHING  # the primary publishes none


def test_nat_port_allocation_errors_alarm_at_the_first_one() -> None:
    alarm = nat_alarm(["nat-1", "nat-2", "nat-3"])
    assert (alarm.threshold, alarm.datapoints, alarm.expression) == (0.0, 1, "SUM([nat0, nat1, nat2])")
    assert {m.name for m in alarm.metrics} == {"ErrorPortAllocation"}


def every_spec() -> list[AlarmSpec]:
    return [
        *traffic_alarms(TARGET, SEED),
        healthy_hosts_alarm(TARGET, 2, what="instances"),
        *host_alarms(Ec2Fleet("asg"), SEED),
        *host_alarms(EksFleet("cluster"), SEED),
        *cache_alarms(["a", "b"], SEED, has_replica=True),
        nat_alarm(["n"]),
    ]


def test_every_alarm_treats_missing_data_deliberately_and_says_why() -> None:
    for spec in every_spec():
        assert isinstance(spec.missing_data, MissingData), spec.slug
        assert len(spec.missing_data_reason) > 30, spec.slug
        assert re.fullmatch(r"[a-z0-9-]+", spec.slug), spec.slug
        assert spec.window_seconds >= 5 * 60, f"{spec.slug}: a page needs more than a blip"


def test_a_spec_refuses_shapes_cloudwatch_would() -> None:
    (metric,) = traffic_alarms(TARGET, SEED)[0].metrics
    with pytest.raises(ValueError, match="expression"):
        AlarmSpec("x", "x", (metric, metric), None, "", "GreaterThanThreshold", 1, 1, 1, MissingData.IGNORE, "r")
    with pytest.raises(ValueError, match="3 of 2"):
        AlarmSpec("x", "x", (metric,), None, "", "GreaterThanThreshold", 1, 2, 3, MissingData.IGNORE, "r")


# Dashboard


def _targets(kind: str, **extra: Any) -> DashboardTargets:
    return DashboardTargets(
        region="us-east-1",
        load_balancer="app/alb/1",
        target_group="targetgroup/tg/2",
        fleet_kind=kind,
        fleet_name="group-or-cluster",
        **extra,
    )


def test_the_dashboard_puts_every_alarm_first_and_lays_the_graphs_on_the_grid() -> None:
    body = dashboard_body(
        _targets(
            "ec2",
            cache_nodes=["c-001"],
            nat_gateways=["nat-1"],
            web_acls=[WebAclMetrics("contentry-prod-alb", "load balancer", False), WebAclMetrics("cdn", "CDN", True)],
            alarm_arns=["arn:b", "arn:a"],
        )
    )
    widgets = body["widgets"]
    assert widgets[0]["type"] == "alarm"
    assert widgets[0]["properties"]["alarms"] == ["arn:a", "arn:b"]
    for widget in widgets:
        assert widget["x"] + widget["width"] <= GRID_WIDTH
        for metric in widget["properties"].get("metrics", []):
            if len(metric) == 1 and isinstance(metric[0], dict):
                assert "expression" in metric[0]  # metric math
                continue
            plain = metric[:-1] if isinstance(metric[-1], dict) else metric
            assert len(plain) % 2 == 0, metric  # namespace, name, then dimension name/value pairs
    titles = [w["properties"]["title"] for w in widgets]
    for part in ("Traffic", "Latency", "Errors", "Targets", "Fleet size", "Cache", "NAT", "Firewall: CDN"):
        assert any(part in title for title in titles), part
    cdn = next(w for w in widgets if w["properties"]["title"] == "Firewall: CDN")
    assert cdn["properties"]["region"] == "us-east-1"
    assert "Region" not in cdn["properties"]["metrics"][0]
    json.dumps(body)  # PutDashboard takes JSON


def test_the_dashboard_of_tier_b_counts_nodes_and_pods_and_omits_what_the_stack_lacks() -> None:
    body = dashboard_body(_targets("eks", app_namespace="contentry"))
    text = json.dumps(body)
    assert "cluster_node_count" in text
    assert "namespace_number_of_running_pods" in text
    assert "AWS/AutoScaling" not in text
    assert "AWS/NATGateway" not in text
    assert "AWS/ElastiCache" not in text
    with pytest.raises(ValueError, match="allowed: ec2, eks"):
        _targets("lambda")


# WAF


def rules(mode: WafMode = WafMode.BLOCK, paths: tuple[str, ...] = ()) -> list[Any]:
    return web_acl_rules(mode=mode, rate_limit=2000, rate_window_seconds=300, large_body_paths=paths, metric_prefix="p")


def test_the_web_acl_runs_the_managed_groups_and_a_rate_limit_per_client_ip() -> None:
    acl = rules()
    assert [r["priority"] for r in acl] == list(range(len(acl)))
    groups = [r["statement"]["managed_rule_group_statement"]["name"] for r in acl if "override_action" in r]
    assert sorted(groups) == sorted(MANAGED_RULE_GROUPS)
    (rate,) = [r for r in acl if "rate_based_statement" in r["statement"]]
    assert rate["statement"]["rate_based_statement"] == {
        "aggregate_key_type": "IP",
        "limit": 2000,
        "evaluation_window_sec": 300,
    }
    assert rate["action"] == {"block": {"custom_response": {"response_code": 429}}}
    assert capacity_units(acl) <= INCLUDED_WCU
    for rule in acl:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,128}", rule["visibility_config"]["metric_name"])


def test_the_body_size_rule_only_counts_and_a_later_rule_blocks_its_label_outside_the_listed_paths() -> None:
    acl = rules(paths=("/api/imports", "/api/v2/bulk.json"))
    common = next(r for r in acl if r["name"] == "aws-common-rule-set")
    overrides = common["statement"]["managed_rule_group_statement"]["rule_action_overrides"]
    assert overrides == [{"name": BODY_SIZE_RULE, "action_to_use": {"count": {}}}]
    oversized = acl[-1]
    assert oversized["priority"] > common["priority"]
    labelled, excepted = oversized["statement"]["and_statement"]["statements"]
    assert labelled == {"label_match_statement": {"scope": "LABEL", "key": BODY_SIZE_LABEL}}
    pattern = excepted["not_statement"]["statement"]["regex_match_statement"]["regex_string"]
    assert re.match(pattern, "/api/imports/42")
    assert re.match(pattern, "/api/v2/bulk.json")
    assert not re.match(pattern, "/api/posts")
    assert not re.match(pattern, "/api/v2/bulkXjson")
    # No path listed: every labelled request is refused.
    assert rules()[-1]["statement"] == {"label_match_statement": {"scope": "LABEL", "key": BODY_SIZE_LABEL}}
    with pytest.raises(ValueError, match="no path"):
        large_body_path_pattern(())


def test_count_mode_refuses_nothing() -> None:
    for rule in rules(WafMode.COUNT):
        assert rule.get("override_action", rule.get("action")) == {"count": {}}, rule["name"]


def test_waf_logs_redact_credentials_keep_only_what_a_rule_matched_and_go_where_waf_writes() -> None:
    fields: list[Any] = list(redacted_fields())  # plain data: the provider's TypedDicts are for its inputs
    assert {f["single_header"]["name"] for f in fields} == {"authorization", "cookie"}
    keep: Any = logging_filter()
    assert keep["default_behavior"] == "DROP"
    actions = {c["action_condition"]["action"] for c in keep["filters"][0]["conditions"]}
    assert {"BLOCK", "COUNT"} <= actions
    assert log_group_name("contentry-prod", "alb").startswith("aws-waf-logs-")
    group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:aws-waf-logs-contentry-prod-alb"
    (statement,) = json.loads(log_delivery_policy(log_group_arn=group, account_id=ACCOUNT, region="us-east-1"))[
        "Statement"
    ]
    assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert statement["Resource"] == f"{group}:log-stream:*"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}


# Budget


def test_the_budget_filters_on_the_user_defined_stack_tag_and_alerts_at_80_and_100() -> None:
    assert cost_allocation_filter("prod") == "user:Stack$prod"
    assert budget_amount(Decimal("1550")) == "1550.00"
    assert budget_alerts() == [("ACTUAL", 80), ("FORECASTED", 100)]
    with pytest.raises(ValueError, match="positive"):
        budget_amount(Decimal(0))


# CloudTrail


def test_the_trail_is_named_by_an_arn_built_from_its_name_in_both_policies() -> None:
    name = trail_name("contentry-prod")
    arn = trail_arn(region="us-east-1", account_id=ACCOUNT, name=name)
    assert arn == f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/contentry-prod-trail"
    bucket = statements(trail_bucket_policy(bucket_arn="arn:aws:s3:::trail", account_id=ACCOUNT, trail=arn))
    assert bucket["AWSCloudTrailAclCheck"]["Condition"] == {"StringEquals": {"aws:SourceArn": arn}}
    write = bucket["AWSCloudTrailWrite"]
    assert write["Resource"] == f"arn:aws:s3:::trail/AWSLogs/{ACCOUNT}/*"
    assert write["Condition"]["StringEquals"] == {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": arn}
    assert bucket["DenyInsecureTransport"]["Effect"] == "Deny"
    key = statements(trail_key_policy(account_id=ACCOUNT, trail=arn))
    encrypt = key["CloudTrailEncryptsTheTrailsLogs"]
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"]["StringEquals"] == {"aws:SourceArn": arn}
    context = "kms:EncryptionContext:aws:cloudtrail:arn"
    assert encrypt["Condition"]["StringLike"] == {context: f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"}
    assert key["AccountReadsTheLogFiles"]["Condition"]["StringEquals"] == {"kms:CallerAccount": ACCOUNT}


# Atlas


def test_atlas_audits_logins_refusals_and_schema_and_user_changes_on_dedicated_tiers() -> None:
    document = json.loads(audit_filter())
    assert document == {"atype": {"$in": list(AUDITED_ACTIONS)}}
    for action in ("authenticate", "authCheck", "createUser", "dropCollection"):
        assert action in AUDITED_ACTIONS
    assert supports_auditing("M10")
    assert supports_auditing("M30")
