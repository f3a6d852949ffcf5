"""Operations and edge security through the offline plan, for every tier and environment: each alarm with its
threshold and the alert topic as its alarm and OK action, the encrypted topic and its subscriptions, the web ACLs
on the load balancer and the distribution with their rate rule, the budget at monthlyBudgetUsd, the trail
encrypted and validated, Atlas's auditing, Container Insights on tier B."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from infra.plan.document import Plan
from infra.plan.mocks import ACCOUNT_ID, _kms_key, _load_balancer
from tests.infra.plans import STACKS, plan_of

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
BUDGET = "aws:budgets/budget:Budget"
TRAIL = "aws:cloudtrail/trail:Trail"
AUDITING = "mongodbatlas:index/auditing:Auditing"
ADDON = "aws:eks/addon:Addon"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECRET = "[secret]"


def named(plan: Plan, name: str) -> dict[str, Any]:
    found = [r for r in plan.resources if r["name"] == name]
    assert len(found) == 1, f"{plan.stack}: one resource named {name}, found {len(found)}"
    return found[0]


def maybe(plan: Plan, name: str) -> dict[str, Any] | None:
    return next((r for r in plan.resources if r["name"] == name), None)


def alarms(plan: Plan) -> dict[str, dict[str, Any]]:
    return {r["name"]: r["inputs"] for r in plan.of_type(ALARM)}


# Alert routing


def test_every_alarm_in_every_plan_notifies_the_alert_topic_on_alarm_and_on_ok(any_plan: Plan) -> None:
    topic = any_plan.outputs["alertTopicArn"]
    found = alarms(any_plan)
    assert len(found) >= 10
    for name, inputs in found.items():
        assert inputs.get("alarmActions") == [topic], f"{any_plan.stack}: {name} pages nobody"
        assert inputs.get("okActions") == [topic], f"{any_plan.stack}: {name} never says it recovered"
        assert inputs.get("actionsEnabled") is not False, name
        assert inputs.get("treatMissingData") in ("notBreaching", "breaching", "ignore"), name


def test_the_topic_is_encrypted_with_its_own_key_and_emails_alert_email(any_plan: Plan) -> None:
    topic, key = named(any_plan, "alerts-topic"), named(any_plan, "alerts-key")
    assert topic["inputs"]["kmsMasterKeyId"] == key_arn(key)
    policy = json.loads(key["inputs"]["policy"])
    publishers = next(s for s in policy["Statement"] if s["Sid"] == "PublishersEncryptAlerts")
    assert "cloudwatch.amazonaws.com" in publishers["Principal"]["Service"]
    assert key["inputs"]["enableKeyRotation"] is True
    production = any_plan.config["environment"] == "production"
    assert key["options"]["protect"] is production
    (email,) = [s["inputs"] for s in any_plan.of_type(SUBSCRIPTION) if s["inputs"]["protocol"] == "email"]
    assert (email["endpoint"], email["topic"]) == ("alerts@example.com", any_plan.outputs["alertTopicArn"])
    topic_policy = json.loads(named(any_plan, "alerts-topic-policy")["inputs"]["policy"])
    assert {s["Sid"] for s in topic_policy["Statement"]} >= {"CloudWatchAlarmsPublish", "BudgetsPublish"}


def key_arn(key: dict[str, Any]) -> str:
    """The ARN the offline engine gives a key (what the resources using it carry)."""
    return _kms_key(key["name"], {}, "us-east-1")["arn"]


def test_pager_endpoints_are_https_subscriptions_and_stay_secret() -> None:
    plan = plan_of("dev", ("alertHttpsEndpoints=https://events.pager.example/integration/abc/enqueue",))
    (https,) = [s for s in plan.of_type(SUBSCRIPTION) if s["inputs"]["protocol"] == "https"]
    assert https["inputs"]["endpoint"] == SECRET
    assert https["inputs"]["endpointAutoConfirms"] is True
    assert "abc" not in plan.to_json()


# The seed's alerts


EXPECTED = {
    # name: (metric name of the alarm's first query, threshold, comparison)
    "monitoring-api-latency-p95": ("TargetResponseTime", 0.5, "GreaterThanThreshold"),
    "monitoring-api-error-rate": ("HTTPCode_Target_5XX_Count", 1, "GreaterThanThreshold"),
    "monitoring-fleet-cpu": (None, 85, "GreaterThanThreshold"),
    "monitoring-fleet-memory": (None, 90, "GreaterThanThreshold"),
    "monitoring-fleet-disk": (None, 85, "GreaterThanThreshold"),
    "monitoring-api-healthy-hosts": ("HealthyHostCount", None, "LessThanThreshold"),
    "monitoring-nat-port-allocation": ("ErrorPortAllocation", 0, "GreaterThanThreshold"),
    "monitoring-cache-cpu": ("EngineCPUUtilization", 90, "GreaterThanThreshold"),
    "monitoring-cache-memory": ("DatabaseMemoryUsagePercentage", 90, "GreaterThanThreshold"),
    "monitoring-cache-evictions": ("Evictions", 100, "GreaterThanThreshold"),
}


def test_each_seed_alert_exists_with_its_threshold(any_plan: Plan) -> None:
    found = alarms(any_plan)
    eks = any_plan.tier == "B"
    nat_gateways = any_plan.config["network"]["natStrategy"] != "instance"
    assert ("monitoring-nat-port-allocation" in found) is nat_gateways, "a NAT instance heals in its group of one"
    for name, (metric, threshold, comparison) in EXPECTED.items():
        if name == "monitoring-nat-port-allocation" and not nat_gateways:
            continue
        inputs = found[name]
        assert inputs["comparisonOperator"] == comparison, name
        if threshold is not None:
            assert inputs["threshold"] == threshold, name
        first = inputs["metricQueries"][0]["metric"]
        if metric is not None:
            assert first["metricName"] == metric, name
    minimum = any_plan.config["kubernetes"]["podMinReplicas"] if eks else any_plan.config["compute"]["computeMinSize"]
    assert found["monitoring-api-healthy-hosts"]["threshold"] == minimum
    cpu = found["monitoring-fleet-cpu"]["metricQueries"][0]["metric"]
    if eks:
        assert (cpu["namespace"], set(cpu["dimensions"])) == ("ContainerInsights", {"ClusterName"})
    else:
        assert (cpu["namespace"], set(cpu["dimensions"])) == ("AWS/EC2", {"AutoScalingGroupName"})
        assert found["monitoring-fleet-memory"]["metricQueries"][0]["metric"]["namespace"] == "CWAgent"
    replicas = any_plan.config["cache"]["cacheReplicas"]
    assert ("monitoring-cache-replication-lag" in found) is (replicas >= 1)
    nodes = found["monitoring-cache-cpu"]["metricQueries"]
    assert len([q for q in nodes if q.get("metric")]) == replicas + 1


def test_thresholds_follow_the_config() -> None:
    plan = plan_of("dev", ("alarmLatencyP95Ms=800", "alarmErrorRatePercent=2.5", "alarmCpuPercent=70"))
    found = alarms(plan)
    assert found["monitoring-api-latency-p95"]["threshold"] == 0.8
    assert found["monitoring-api-error-rate"]["threshold"] == 2.5
    assert found["monitoring-fleet-cpu"]["threshold"] == 70


def test_an_external_cache_has_no_cache_alarms() -> None:
    plan = plan_of("dev", ("cacheMode=external", "externalRedisUrl=rediss://:pw@redis.example.com:6380"))
    assert not [name for name in alarms(plan) if "cache" in name]


def test_the_dashboard_shows_the_stacks_own_resources_and_every_alarm(any_plan: Plan) -> None:
    body = json.loads(named(any_plan, "monitoring-dashboard")["inputs"]["dashboardBody"])
    alarm_widget = body["widgets"][0]["properties"]["alarms"]
    names = {arn.rsplit(":alarm:", 1)[1] for arn in alarm_widget}
    assert names == {inputs["name"] for inputs in alarms(any_plan).values()}
    text = json.dumps(body)
    fleet = "clusterName" if any_plan.tier == "B" else "autoScalingGroupName"
    assert any_plan.outputs[fleet] in text
    assert any_plan.outputs["dashboardName"] == f"contentry-{any_plan.stack}-overview"


# WAF


def test_the_load_balancer_and_the_distribution_sit_behind_web_acls_with_a_rate_rule(any_plan: Plan) -> None:
    alb_acl = named(any_plan, "alb-firewall-acl")
    assert alb_acl["inputs"]["scope"] == "REGIONAL"
    association = named(any_plan, "alb-firewall-association")["inputs"]
    assert association["webAclArn"] == any_plan.outputs["albWebAclArn"]
    assert association["resourceArn"] == _load_balancer("load-balancer-alb", {}, any_plan.outputs["region"])["arn"]
    distribution = maybe(any_plan, "files-cdn")
    if distribution is None:
        assert maybe(any_plan, "cdn-firewall-acl") is None
        assert "cdnWebAclArn" not in any_plan.outputs
    else:
        cdn_acl = named(any_plan, "cdn-firewall-acl")
        assert cdn_acl["inputs"]["scope"] == "CLOUDFRONT"
        assert distribution["inputs"]["webAclId"] == any_plan.outputs["cdnWebAclArn"]
        assert ":global/webacl/" in any_plan.outputs["cdnWebAclArn"]
        providers = {p["urn"]: p["inputs"]["region"] for p in any_plan.of_type("pulumi:providers:aws")}
        assert providers[cdn_acl["provider"].rsplit("::", 1)[0]] == "us-east-1"
    for acl in [alb_acl, *([named(any_plan, "cdn-firewall-acl")] if distribution else [])]:
        (rate,) = [r for r in acl["inputs"]["rules"] if "rateBasedStatement" in r["statement"]]
        assert rate["statement"]["rateBasedStatement"]["limit"] == any_plan.config["firewall"]["wafRateLimit"]
        assert rate["statement"]["rateBasedStatement"]["aggregateKeyType"] == "IP"
        assert rate["action"] == {"block": {"customResponse": {"responseCode": 429}}}


def test_waf_logs_go_to_aws_waf_logs_groups_with_credentials_redacted(any_plan: Plan) -> None:
    for logging in any_plan.of_type(WAF_LOGGING):
        inputs = logging["inputs"]
        label = logging["name"].split("-firewall")[0]
        group = named(any_plan, f"{label}-firewall-logs")
        assert group["inputs"]["name"] == f"aws-waf-logs-contentry-{any_plan.stack}-{label}"
        assert group["inputs"]["retentionInDays"] == any_plan.config["logRetentionDays"]
        assert {f["singleHeader"]["name"] for f in inputs["redactedFields"]} == {"authorization", "cookie"}
        assert inputs["loggingFilter"]["defaultBehavior"] == "DROP"


def test_count_mode_is_for_development_and_production_refuses_it() -> None:
    plan = plan_of("dev", ("wafMode=count",))
    for rule in named(plan, "alb-firewall-acl")["inputs"]["rules"]:
        assert rule.get("overrideAction", rule.get("action")) == {"count": {}}
    from infra.config import InvalidStackConfig

    with pytest.raises(InvalidStackConfig, match="wafMode: count: production blocks"):
        plan_of("prod", ("wafMode=count",))


# Budget


def test_the_budget_is_monthly_budget_usd_on_the_stacks_tag_with_two_alerts(any_plan: Plan) -> None:
    budget = named(any_plan, "budget-monthly")["inputs"]
    assert Decimal(budget["limitAmount"]) == Decimal(any_plan.config["monthlyBudgetUsd"])
    assert (budget["limitUnit"], budget["timeUnit"], budget["budgetType"]) == ("USD", "MONTHLY", "COST")
    assert budget["costFilters"] == [{"name": "TagKeyValue", "values": [f"user:Stack${any_plan.stack}"]}]
    alerts = {(n["notificationType"], n["threshold"]) for n in budget["notifications"]}
    assert alerts == {("ACTUAL", 80), ("FORECASTED", 100)}
    for notification in budget["notifications"]:
        assert notification["subscriberSnsTopicArns"] == [any_plan.outputs["alertTopicArn"]]
        assert notification["thresholdType"] == "PERCENTAGE"


def test_the_budget_follows_monthly_budget_usd() -> None:
    plan = plan_of("dev", ("monthlyBudgetUsd=412.5",))
    assert named(plan, "budget-monthly")["inputs"]["limitAmount"] == "412.50"


# Audit


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_the_trail_is_on_in_production_encrypted_validated_and_multi_region(stack_id: str) -> None:
    stack, overrides = STACKS[stack_id]
    plan = plan_of(stack, overrides)
    trails = plan.of_type(TRAIL)
    production = plan.config["environment"] == "production"
    assert len(trails) == (1 if production else 0)
    assert ("auditTrailArn" in plan.outputs) is production  # a None output is not exported
    if not production:
        return
    trail = trails[0]["inputs"]
    assert trail["isMultiRegionTrail"] is True
    assert trail["enableLogFileValidation"] is True
    assert trail["includeGlobalServiceEvents"] is True
    assert trail["kmsKeyId"] == key_arn(named(plan, "audit-trail-key"))
    assert trail["s3BucketName"] == "audit-trail-bucket-id"
    # The ARN both policies name is the trail's own, built from its name.
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT_ID}:trail/{trail['name']}"
    assert plan.outputs["auditTrailArn"] == arn
    bucket_policy = named(plan, "audit-trail-bucket-policy")
    assert arn in bucket_policy["inputs"]["policy"]
    assert arn in named(plan, "audit-trail-key")["inputs"]["policy"]
    assert bucket_policy["urn"] in trails[0]["options"]["dependsOn"]
    for stateful in ("audit-trail-bucket", "audit-trail-key"):
        assert named(plan, stateful)["options"]["protect"] is True, stateful
    lifecycle = named(plan, "audit-trail-bucket-lifecycle")["inputs"]["rules"][0]
    assert lifecycle["expiration"]["days"] == plan.config["logRetentionDays"]
    block = named(plan, "audit-trail-bucket-public-access-block")["inputs"]
    assert all(block[flag] is True for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls"))


def test_cloud_trail_enabled_overrides_the_environments_default() -> None:
    assert plan_of("dev", ("cloudTrailEnabled=true",)).of_type(TRAIL)
    assert not plan_of("prod", ("cloudTrailEnabled=false",)).of_type(TRAIL)


def test_atlas_audits_the_database_in_production_only(any_plan: Plan) -> None:
    production = any_plan.config["environment"] == "production"
    auditing = any_plan.of_type(AUDITING)
    assert len(auditing) == (1 if production else 0)
    if production:
        inputs = auditing[0]["inputs"]
        assert inputs["enabled"] is True
        assert inputs["auditAuthorizationSuccess"] is False
        assert "authenticate" in json.loads(inputs["auditFilter"])["atype"]["$in"]


# Tier B: Container Insights


@pytest.mark.parametrize("stack_id", ["dev-tier-B", "prod-tier-B"])
def test_tier_b_runs_container_insights_with_its_own_identity_and_kept_log_groups(stack_id: str) -> None:
    stack, overrides = STACKS[stack_id]
    plan = plan_of(stack, overrides)
    (addon,) = [a for a in plan.of_type(ADDON) if a["inputs"]["addonName"] == "amazon-cloudwatch-observability"]
    (association,) = addon["inputs"]["podIdentityAssociations"]
    assert association["serviceAccount"] == "cloudwatch-agent"
    assert association["roleArn"].endswith("container-insights-role")
    cluster = plan.outputs["clusterName"]
    groups = {
        g["inputs"]["name"]: g for g in plan.of_type(LOG_GROUP) if "containerinsights" in g["inputs"].get("name", "")
    }
    assert set(groups) == {f"/aws/containerinsights/{cluster}/{kind}" for kind in ("performance", "application")}
    for group in groups.values():
        assert group["inputs"]["retentionInDays"] == plan.config["logRetentionDays"]
        assert group["urn"] in addon["options"]["dependsOn"]
    # After the nodes: the component waits for them, and its children for it.
    assert urn(plan, "nodes-group") in named(plan, "container-insights")["options"]["dependsOn"]


def urn(plan: Plan, name: str) -> str:
    return named(plan, name)["urn"]


def test_the_outputs_name_what_operations_built(any_plan: Plan) -> None:
    for key in ("alertTopicArn", "dashboardName", "albWebAclArn", "budgetName"):
        assert any_plan.outputs[key], key
    assert any_plan.outputs["budgetName"] == f"contentry-{any_plan.stack}-monthly"
