"""The job workers through the plan of tiers A and C (issue 16): their own fleet (launch template, group with no
load balancer, scaling on queue depth per worker with metric math, the termination hook), least privilege, the
closed security group, the worker's containers and health reporting; tier C's colocated placement; Datadog only
when enabled, its key always [secret]."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from infra.plan.document import Plan
from infra.planning.compute.instance_policy import ACTIONS_WITHOUT_RESOURCE_SCOPE
from infra.planning.compute.job_containers import (
    DATADOG_AGENT_IMAGE,
    DATADOG_UNIT,
    EXPORTER_UNIT,
    HEALTH_REPORTER,
    PREPARE_WORKER,
    WORKER_UNIT,
)
from tests.infra.compute.compute_support import (
    AUTO_SCALING_GROUP,
    EC2_STACKS,
    EGRESS_RULE,
    INGRESS_RULE,
    LAUNCH_TEMPLATE,
    cloud_config,
    stack_plan,
    the,
    unit_directives,
    written_file,
)

WORKER_TEMPLATE = "worker-fleet-template"
WORKER_GROUP = "worker-fleet-asg"
POLICY = "aws:autoscaling/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
DATADOG_KEY = "0123456789abcdef0123456789abcdef"
DATADOG_ON = ("datadogEnabled=true", f"datadogApiKey={DATADOG_KEY}")


@pytest.fixture(params=sorted(EC2_STACKS))
def ec2_plan(request: pytest.FixtureRequest) -> Plan:
    return stack_plan(request.param)


def decoded(template: dict[str, Any]) -> str:
    return base64.b64decode(template["inputs"]["userData"]).decode()


def files_of(user_data: str) -> dict[str, str]:
    return {f["path"]: f["content"] for f in cloud_config(user_data)["write_files"]}


def test_every_ec2_stack_runs_a_worker_fleet_with_its_own_template_and_no_load_balancer(ec2_plan: Plan) -> None:
    template = the(ec2_plan, LAUNCH_TEMPLATE, WORKER_TEMPLATE)
    app_template = the(ec2_plan, LAUNCH_TEMPLATE)
    assert template["inputs"]["imageId"] == app_template["inputs"]["imageId"], "the same AMI pin as the app"
    metadata = template["inputs"]["metadataOptions"]
    assert (metadata["httpTokens"], metadata["httpPutResponseHopLimit"]) == ("required", 1)
    (disk,) = template["inputs"]["blockDeviceMappings"]
    assert (disk["ebs"]["volumeType"], disk["ebs"]["encrypted"]) == ("gp3", "true")
    assert "keyName" not in template["inputs"]
    assert "networkInterfaces" not in template["inputs"]
    group = the(ec2_plan, AUTO_SCALING_GROUP, WORKER_GROUP)
    inputs = group["inputs"]
    assert "targetGroupArns" not in inputs or not inputs["targetGroupArns"]
    assert inputs["healthCheckType"] == "EC2"
    assert inputs["healthCheckGracePeriod"] >= 300
    assert len(inputs["vpcZoneIdentifiers"]) == len(ec2_plan.outputs["privateSubnetIds"])
    assert "GroupInServiceInstances" in inputs["enabledMetrics"]
    jobs = ec2_plan.config["jobs"]
    assert (inputs["minSize"], inputs["maxSize"]) == (jobs["workerMinSize"], jobs["workerMaxSize"])
    (hook,) = inputs["initialLifecycleHooks"]
    assert hook["lifecycleTransition"] == "autoscaling:EC2_INSTANCE_TERMINATING"
    assert hook["defaultResult"] == "CONTINUE"
    assert hook["heartbeatTimeout"] > jobs["jobTimeLimitSeconds"], "a running job may finish before termination"
    assert (
        ec2_plan.outputs["workerAutoScalingGroupName"] == f"{WORKER_GROUP}-name"
        or ec2_plan.outputs["workerAutoScalingGroupName"]
    )


def test_the_fleet_scales_on_queue_depth_per_worker_with_metric_math(ec2_plan: Plan) -> None:
    (policy,) = [p for p in ec2_plan.of_type(POLICY) if p["name"].startswith("worker-fleet-")]
    tracking = policy["inputs"]["targetTrackingConfiguration"]
    assert tracking["targetValue"] == ec2_plan.config["jobs"]["jobQueueDepthTargetPerWorker"]
    queries = {q["id"]: q for q in tracking["customizedMetricSpecification"]["metrics"]}
    depth = queries["queue_depth"]["metricStat"]
    assert (depth["metric"]["namespace"], depth["metric"]["metricName"], depth["stat"]) == (
        "Contentry/Jobs",
        "QueueDepth",
        "Maximum",
    )
    assert depth["metric"]["dimensions"] == [{"name": "Stack", "value": ec2_plan.stack}]
    workers = queries["in_service"]["metricStat"]["metric"]
    assert workers["metricName"] == "GroupInServiceInstances"
    assert workers["dimensions"] == [
        {"name": "AutoScalingGroupName", "value": ec2_plan.outputs["workerAutoScalingGroupName"]}
    ]
    assert queries["per_worker"]["expression"] == "queue_depth / in_service"
    returning = [q["id"] for q in queries.values() if q.get("returnData", True)]
    assert returning == ["per_worker"], "exactly one query returns the tracked value"


def test_the_worker_runs_the_app_image_with_the_worker_command_and_celery_s_ping_as_health(ec2_plan: Plan) -> None:
    files = files_of(decoded(the(ec2_plan, LAUNCH_TEMPLATE, WORKER_TEMPLATE)))
    worker = unit_directives(files[f"/etc/systemd/system/{WORKER_UNIT}"])
    command = worker["ExecStart"][0]
    assert command.endswith("python -m app.jobs.worker")
    assert '--health-cmd "python -m app.jobs.healthcheck"' in command
    assert "--network host" in command
    assert "--publish" not in command
    stop = int(command.split("--stop-timeout ")[1].split()[0])
    assert stop >= ec2_plan.config["jobs"]["jobTimeLimitSeconds"], "docker stop waits a whole job"
    exporter = unit_directives(files[f"/etc/systemd/system/{EXPORTER_UNIT}"])
    assert exporter["ExecStart"][0].endswith("python -m app.jobs.queue_metrics")
    prepare = files[PREPARE_WORKER]
    for variable in (
        f"WORKER_CONCURRENCY={ec2_plan.config['jobs']['workerConcurrency']}",
        f"JOB_TIME_LIMIT_SECONDS={ec2_plan.config['jobs']['jobTimeLimitSeconds']}",
        "JOBS_METRICS_NAMESPACE=Contentry/Jobs",
        f"STACK_NAME={ec2_plan.stack}",
        "UPLOAD_QUARANTINE_PREFIX=quarantine/",
        "DATADOG_ENABLED=false",
    ):
        assert variable in prepare, variable
    assert f"readonly SECRET_ARN={ec2_plan.outputs['appSecretArn']}" in prepare
    reporter = files[HEALTH_REPORTER]
    assert "set-instance-health" in reporter
    assert "complete-lifecycle-action" in reporter


def _policy_statements(plan: Plan, role_policy_name: str) -> list[dict[str, Any]]:
    document = json.loads(the(plan, ROLE_POLICY, role_policy_name)["inputs"]["policy"])
    return document["Statement"]


def test_the_worker_role_holds_the_app_secret_the_bucket_objects_and_its_namespace_only(ec2_plan: Plan) -> None:
    statements = _policy_statements(ec2_plan, "worker-fleet-role-policy")
    secrets = [s for s in statements if "secretsmanager:GetSecretValue" in str(s["Action"])]
    assert [s["Resource"] for s in secrets] == [ec2_plan.outputs["appSecretArn"]]
    bucket = [s for s in statements if str(s["Action"]).count("s3:")]
    assert len(bucket) == 1
    assert sorted(bucket[0]["Action"]) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert bucket[0]["Resource"].endswith("/*"), "objects only (the quarantine prefix included), no listing"
    metrics = {s["Condition"]["StringEquals"]["cloudwatch:namespace"] for s in statements if "Condition" in s}
    assert "Contentry/Jobs" in metrics
    for statement in statements:
        if statement["Resource"] == "*":
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert set(actions) <= ACTIONS_WITHOUT_RESOURCE_SCOPE, statement["Sid"]
    (own,) = _policy_statements(ec2_plan, "worker-fleet-own-group-policy")
    assert sorted(own["Action"]) == ["autoscaling:CompleteLifecycleAction", "autoscaling:SetInstanceHealth"]
    assert own["Resource"] == f"{WORKER_GROUP}-arn" or own["Resource"].startswith("arn:"), own["Resource"]
    assert own["Resource"] != "*"


def test_the_workers_group_admits_nothing_and_reaches_only_https_atlas_and_the_cache(ec2_plan: Plan) -> None:
    group_id = "worker-fleet-security-group-id"
    assert not [r for r in ec2_plan.of_type(INGRESS_RULE) if r["inputs"]["securityGroupId"] == group_id]
    egress = [r for r in ec2_plan.of_type(EGRESS_RULE) if r["inputs"]["securityGroupId"] == group_id]
    ports = sorted((r["inputs"]["fromPort"], r["inputs"]["toPort"]) for r in egress)
    assert ports == [(443, 443), (6379, 6379), (27015, 27017)]


def test_colocated_workers_run_on_the_app_instances_and_no_worker_fleet() -> None:
    plan = stack_plan("dev", ("workerPlacement=colocated",))
    assert not [r for r in plan.resources if r["name"].startswith("worker-fleet")]
    files = files_of(decoded(the(plan, LAUNCH_TEMPLATE)))
    assert f"/etc/systemd/system/{WORKER_UNIT}" in files
    assert f"/etc/systemd/system/{EXPORTER_UNIT}" in files
    assert "complete-lifecycle-action" not in files[HEALTH_REPORTER], "no hook on the app fleet"
    statements = _policy_statements(plan, "app-fleet-role-policy")
    assert any(s.get("Sid") == "PublishJobMetrics" for s in statements)
    assert "workerAutoScalingGroupName" not in plan.outputs


def test_the_api_gets_the_job_time_limit_and_datadog_off_by_default(ec2_plan: Plan) -> None:
    files = files_of(decoded(the(ec2_plan, LAUNCH_TEMPLATE)))
    prepare = files["/usr/local/libexec/contentry/prepare-api"]
    assert f"JOB_TIME_LIMIT_SECONDS={ec2_plan.config['jobs']['jobTimeLimitSeconds']}" in prepare
    assert "DATADOG_ENABLED=false" in prepare


def test_without_datadog_nothing_of_it_is_in_the_plan(ec2_plan: Plan) -> None:
    assert not [r for r in ec2_plan.resources if "datadog" in r["name"]]
    for template in ec2_plan.of_type(LAUNCH_TEMPLATE):
        user_data = decoded(template)
        assert not re.search(r"\bDD_[A-Z_]+=", user_data), f"{template['name']}: a DD_ variable"
        assert "datadog-agent" not in user_data, template["name"]
        assert "DATADOG_ENABLED=true" not in user_data, template["name"]


@pytest.mark.parametrize("stack_id", ["dev", "prod"])
def test_with_datadog_every_host_runs_the_agent_and_the_key_is_only_a_secret(stack_id: str) -> None:
    plan = stack_plan(stack_id, DATADOG_ON)
    version = the(plan, "aws:secretsmanager/secretVersion:SecretVersion", "datadog-api-key-value")
    assert version["inputs"]["secretString"] == "[secret]"
    secret = the(plan, "aws:secretsmanager/secret:Secret", "datadog-api-key-secret")
    assert DATADOG_KEY not in json.dumps(plan.resources) + json.dumps(plan.outputs)
    for name in ("app-fleet-template", WORKER_TEMPLATE):
        user_data = decoded(the(plan, LAUNCH_TEMPLATE, name))
        files = files_of(user_data)
        agent = unit_directives(files[f"/etc/systemd/system/{DATADOG_UNIT}"])["ExecStart"][0]
        assert agent.endswith(DATADOG_AGENT_IMAGE)
        assert ":latest" not in agent
        assert "--publish 172.17.0.1:8126:8126/tcp" in agent, "APM on the bridge gateway only"
        assert "DD_SITE=datadoghq.com" in agent
        assert "DD_LOGS_ENABLED=true" in agent
        assert DATADOG_KEY not in user_data
    role = _policy_statements(plan, "worker-fleet-role-policy")
    readable = sorted(s["Resource"] for s in role if "secretsmanager:GetSecretValue" in str(s["Action"]))
    assert readable == sorted([plan.outputs["appSecretArn"], f"{secret['name']}-arn"]) or len(readable) == 2
    worker = files_of(decoded(the(plan, LAUNCH_TEMPLATE, WORKER_TEMPLATE)))[PREPARE_WORKER]
    for variable in ("DATADOG_ENABLED=true", "DD_SERVICE=contentry-worker", f"DD_ENV={plan.stack}", "DD_VERSION=1.0.0"):
        assert variable in worker
    api = files_of(decoded(the(plan, LAUNCH_TEMPLATE)))["/usr/local/libexec/contentry/prepare-api"]
    assert "DD_SERVICE=contentry-api" in api
    assert "DD_AGENT_HOST=172.17.0.1" in api


def test_the_worker_fleet_s_alarm_guards_its_rollout_and_pages(ec2_plan: Plan) -> None:
    alarm = the(ec2_plan, "aws:cloudwatch/metricAlarm:MetricAlarm", "worker-fleet-unhealthy")
    assert alarm["inputs"]["alarmActions"] == [ec2_plan.outputs["alertTopicArn"]]
    rollout = the(ec2_plan, "command:local:Command", "worker-fleet-rollout")
    request = json.loads(rollout["inputs"]["environment"]["REFRESH_REQUEST"])
    assert request["Preferences"]["AlarmSpecification"]["Alarms"] == [alarm["inputs"]["name"]]
    assert request["Preferences"]["AutoRollback"] is True
    assert written_file  # the helper module's file reader stays shared with the app's tests
