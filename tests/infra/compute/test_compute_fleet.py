"""The app fleet through the plan of every EC2 stack: the image repository, the launch template (AMI,
IMDSv2, encrypted gp3, no SSH key), the instance role, the Auto Scaling group (sizes, ELB health, never
`$Latest`), the rollout of each template version with rollback, the deploy alarms and the scaling policies."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

import pulumi.runtime
import pytest
from botocore.validate import validate_parameters

from infra.config.keys import keys_by_full_name
from infra.plan.document import Plan, build_plan
from infra.plan.mocks import _INVOKES, PlanMocks
from infra.planning.compute.ami import Architecture, al2023_ami_parameter
from infra.planning.compute.instance_policy import ACTIONS_WITHOUT_RESOURCE_SCOPE
from infra.planning.compute.rollout import ROLLOUT_COMMAND
from infra.planning.compute.scaling import ALARM_DECISION_LAG_SECONDS
from tests.infra.compute.compute_support import (
    AUTO_SCALING_GROUP,
    EC2_STACKS,
    EKS_STACKS,
    FLEET_SIZES,
    LAUNCH_TEMPLATE,
    autoscaling_model,
    id_of,
    stack_plan,
    the,
)
from tests.infra.plans import REPO_ROOT

INSTANCE_TYPES = {"A": "c7g.medium", "C": "t4g.medium"}  # Graviton presets (prices.md: ~15% below x86)
# What the offline plan puts in place of prod's computeAmiId placeholder.
PINNED_OFFLINE_AMI = keys_by_full_name()["contentry:computeAmiId"].offline_value
ROLLOUT = "command:local:Command"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def ami_for(region: str, architecture: Architecture) -> str:
    """The AMI id the offline engine answers for the public AL2023 parameter of an architecture."""
    answer, _ = PlanMocks(region).call(
        pulumi.runtime.MockCallArgs(
            token="aws:ssm/getParameter:getParameter",
            args={"name": al2023_ami_parameter(architecture)},
            provider="",
        )
    )
    return answer["value"]


@pytest.fixture(params=sorted(EC2_STACKS))
def ec2_plan(request: pytest.FixtureRequest) -> Plan:
    return stack_plan(request.param)


def latest_template_version() -> int:
    """The version number the offline engine gives a launch template: not 1, so that a version hard-coded as
    "1" anywhere downstream cannot pass for the template's own."""
    _, state = PlanMocks("us-east-1").new_resource(
        pulumi.runtime.MockResourceArgs(typ=LAUNCH_TEMPLATE, name="t", inputs={}, provider="", resource_id="")
    )
    version = state["latestVersion"]
    assert version != 1, "the offline launch template version must be distinctive"
    return version


def template(plan: Plan) -> dict[str, Any]:
    return the(plan, LAUNCH_TEMPLATE, "app-fleet-template")["inputs"]


def group(plan: Plan) -> dict[str, Any]:
    return the(plan, AUTO_SCALING_GROUP, "app-fleet-asg")


def test_the_repository_scans_on_push_keeps_tags_immutable_and_bounds_its_history(ec2_plan: Plan) -> None:
    repository = the(ec2_plan, "aws:ecr/repository:Repository")
    assert repository["inputs"]["imageTagMutability"] == "IMMUTABLE"
    assert repository["inputs"]["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["inputs"]["name"] == f"contentry-{ec2_plan.stack}/api"
    production = ec2_plan.stack == "prod"
    assert repository["options"]["protect"] is production
    assert repository["inputs"]["forceDelete"] is not production
    policy = the(ec2_plan, "aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert policy["inputs"]["repository"] == repository["inputs"]["name"]
    (rule,) = json.loads(policy["inputs"]["policy"])["rules"]
    assert rule["selection"]["countType"] == "imageCountMoreThan"


@pytest.mark.parametrize("stack_id", sorted(EC2_STACKS))
def test_the_template_boots_al2023_for_the_instance_architecture(stack_id: str) -> None:
    plan = stack_plan(stack_id)
    inputs = template(plan)
    assert inputs["instanceType"] == INSTANCE_TYPES[EC2_STACKS[stack_id]]
    if plan.outputs["environment"] == "production":
        assert inputs["imageId"] == PINNED_OFFLINE_AMI, "production boots the AMI its config pins"
    else:
        assert inputs["imageId"] == ami_for(plan.outputs["region"], Architecture.ARM64)


def test_an_x86_instance_type_boots_the_x86_image() -> None:
    plan = stack_plan("dev", ("computeInstanceType=c6i.xlarge",))
    assert template(plan)["imageId"] == ami_for("us-east-1", Architecture.X86_64)
    assert ami_for("us-east-1", Architecture.X86_64) != ami_for("us-east-1", Architecture.ARM64)


def test_a_new_amazon_linux_release_replaces_the_production_fleet_only_when_pinned() -> None:
    """Any new AMI id is a new launch template version, rolled through every instance: with the public
    parameter, the first up after a release replaced production's fleet whatever the up was for."""
    released = "ami-0fedcba9876543210"
    newer = {**_INVOKES, "aws:ssm/getParameter:getParameter": lambda args, region: {"value": released}}
    with patch.dict("infra.plan.mocks._INVOKES", newer):
        prod = build_plan("prod", (), REPO_ROOT)
        dev = build_plan("dev", (), REPO_ROOT)
        chosen = build_plan("prod", (f"computeAmiId={released}",), REPO_ROOT)
    assert template(prod)["imageId"] == template(stack_plan("prod"))["imageId"] == PINNED_OFFLINE_AMI
    assert template(dev)["imageId"] == released, "development follows each release (tried there first)"
    assert template(chosen)["imageId"] == released, "production takes it when its config says so"


def test_imdsv2_is_required_with_room_for_one_container_hop(ec2_plan: Plan) -> None:
    metadata = template(ec2_plan)["metadataOptions"]
    assert metadata["httpTokens"] == "required"
    assert metadata["httpEndpoint"] == "enabled"
    assert metadata["httpPutResponseHopLimit"] == 2


def test_the_root_volume_is_encrypted_gp3_of_the_configured_size(ec2_plan: Plan) -> None:
    (mapping,) = template(ec2_plan)["blockDeviceMappings"]
    assert mapping["deviceName"] == "/dev/xvda"
    assert mapping["ebs"] == {"encrypted": "true", "volumeType": "gp3", "volumeSize": 30, "deleteOnTermination": "true"}
    resized = template(stack_plan("dev", ("computeRootVolumeGb=64",)))
    assert resized["blockDeviceMappings"][0]["ebs"]["volumeSize"] == 64


def test_no_ssh_key_and_instances_carry_the_stack_tags(ec2_plan: Plan) -> None:
    inputs = template(ec2_plan)
    assert "keyName" not in inputs
    kinds = {spec["resourceType"]: spec["tags"] for spec in inputs["tagSpecifications"]}
    assert set(kinds) == {"instance", "volume", "network-interface"}
    for tags in kinds.values():
        assert tags["Stack"] == ec2_plan.stack
        assert tags["Name"] == f"contentry-{ec2_plan.stack}-app"
    assert inputs["monitoring"] == {"enabled": True}


def test_burstable_instances_are_never_throttled() -> None:
    assert template(stack_plan("dev"))["creditSpecification"] == {"cpuCredits": "unlimited"}
    assert "creditSpecification" not in template(stack_plan("prod"))


def test_the_instance_role_is_least_privilege(ec2_plan: Plan) -> None:
    profile = the(ec2_plan, "aws:iam/instanceProfile:InstanceProfile", "app-fleet-profile")
    assert template(ec2_plan)["iamInstanceProfile"]["arn"].endswith(profile["name"])
    role = the(ec2_plan, "aws:iam/role:Role", "app-fleet-role")
    assert json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    assert not ec2_plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"), "no managed policies"
    policy = json.loads(the(ec2_plan, "aws:iam/rolePolicy:RolePolicy", "app-fleet-role-policy")["inputs"]["policy"])
    resources: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        targets = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        for action in actions:
            resources.setdefault(action, set()).update(targets)
            if "*" in targets:
                assert action in ACTIONS_WITHOUT_RESOURCE_SCOPE, action
    assert resources["secretsmanager:GetSecretValue"] == {ec2_plan.outputs["appSecretArn"]}
    files_bucket = the(ec2_plan, "aws:s3/bucket:Bucket", "files-uploads")
    files_arn = f"arn:aws:s3:{ec2_plan.outputs['region']}:123456789012:{files_bucket['name']}"
    assert resources["s3:ListBucket"] == {files_arn}
    assert resources["s3:PutObject"] == {f"{files_arn}/*"}
    repository = the(ec2_plan, "aws:ecr/repository:Repository")
    assert resources["ecr:BatchGetImage"] == {
        f"arn:aws:ecr:{ec2_plan.outputs['region']}:123456789012:{repository['name']}"
    }


def test_the_group_spans_the_private_subnets_with_the_tier_sizes(ec2_plan: Plan) -> None:
    inputs = group(ec2_plan)["inputs"]
    private = sorted(
        id_of(s) for s in ec2_plan.of_type("aws:ec2/subnet:Subnet") if s["inputs"]["tags"]["SubnetTier"] == "private"
    )
    assert sorted(inputs["vpcZoneIdentifiers"]) == private
    assert len(private) == len(ec2_plan.outputs["availabilityZones"])
    assert (inputs["minSize"], inputs["desiredCapacity"], inputs["maxSize"]) == FLEET_SIZES[ec2_plan.tier]


def test_the_group_uses_elb_health_checks_with_a_grace_period(ec2_plan: Plan) -> None:
    inputs = group(ec2_plan)["inputs"]
    assert inputs["healthCheckType"] == "ELB"
    assert inputs["healthCheckGracePeriod"] >= 120
    forwarded_to = {
        action["targetGroupArn"]
        for listener in ec2_plan.of_type("aws:lb/listener:Listener")
        for action in listener["inputs"]["defaultActions"]
        if action["type"] == "forward"
    }
    assert inputs["targetGroupArns"] == sorted(forwarded_to)
    assert f":targetgroup/{ec2_plan.outputs['targetGroupName']}/" in inputs["targetGroupArns"][0]


def test_the_group_starts_on_the_templates_latest_version_number(ec2_plan: Plan) -> None:
    launch_template = group(ec2_plan)["inputs"]["launchTemplate"]
    assert launch_template["id"] == id_of(the(ec2_plan, LAUNCH_TEMPLATE, "app-fleet-template"))
    assert launch_template["version"] == str(latest_template_version())
    assert template(ec2_plan)["updateDefaultVersion"] is True


def test_nothing_references_latest_or_default_versions(any_plan: Plan) -> None:
    for resource in any_plan.resources:
        text = json.dumps(resource["inputs"])
        assert "$Latest" not in text, resource["urn"]
        assert "$Default" not in text, resource["urn"]


def test_the_provider_never_moves_the_group_to_a_new_template_version(ec2_plan: Plan) -> None:
    """The provider's instance_refresh updates the group before refreshing it, so AWS's rollback would return
    to the new version (terraform-provider-aws#34189): the group leaves its template to the rollout."""
    asg = group(ec2_plan)
    assert "instanceRefresh" not in asg["inputs"], "a provider-driven refresh cannot roll back"
    assert "launchTemplate" in asg["options"]["ignoreChanges"], "only a successful refresh may move the group"


def rollout(plan: Plan) -> dict[str, Any]:
    return the(plan, ROLLOUT, "app-fleet-rollout")


def refresh_request(plan: Plan) -> dict[str, Any]:
    return json.loads(rollout(plan)["inputs"]["environment"]["REFRESH_REQUEST"])


def test_each_template_version_is_rolled_out_as_the_refreshs_desired_configuration(ec2_plan: Plan) -> None:
    command = rollout(ec2_plan)
    assert command["inputs"]["create"] == command["inputs"]["update"] == ROLLOUT_COMMAND
    template_resource = the(ec2_plan, LAUNCH_TEMPLATE, "app-fleet-template")
    version = latest_template_version()
    assert command["inputs"]["triggers"] == [id_of(template_resource), version], "a new version runs the rollout"
    request = refresh_request(ec2_plan)
    assert request["DesiredConfiguration"] == {
        "LaunchTemplate": {"LaunchTemplateId": id_of(template_resource), "Version": str(version)}
    }
    assert request["AutoScalingGroupName"] == ec2_plan.outputs["autoScalingGroupName"]
    environment = command["inputs"]["environment"]
    assert environment["AWS_REGION_NAME"] == ec2_plan.outputs["region"]
    # Started only once the group and the alarms it names exist.
    assert {group(ec2_plan)["urn"], *(a["urn"] for a in deploy_alarms(ec2_plan))} <= set(
        command["options"]["dependsOn"]
    )


def test_the_rollout_keeps_capacity_pauses_halfway_and_rolls_back_on_either_alarm(ec2_plan: Plan) -> None:
    request = refresh_request(ec2_plan)
    assert request["Strategy"] == "Rolling"
    preferences = request["Preferences"]
    assert preferences["MinHealthyPercentage"] >= 90
    assert preferences["MaxHealthyPercentage"] > preferences["MinHealthyPercentage"]
    assert preferences["CheckpointPercentages"][-1] == 100
    assert len(preferences["CheckpointPercentages"]) >= 2
    assert preferences["CheckpointDelay"] > 0
    assert preferences["AutoRollback"] is True
    assert preferences["SkipMatching"] is True
    assert sorted(preferences["AlarmSpecification"]["Alarms"]) == sorted(
        a["inputs"]["name"] for a in deploy_alarms(ec2_plan)
    )
    # What boto3 will send, checked against the API's own model: a misspelt key fails here, not at deploy.
    validate_parameters(request, autoscaling_model().operation_model("StartInstanceRefresh").input_shape)


def alarm_window_seconds(alarm: dict[str, Any]) -> int:
    inputs = alarm["inputs"]
    periods = [q["metric"]["period"] for q in inputs.get("metricQueries", []) if "metric" in q] or [inputs["period"]]
    return inputs["evaluationPeriods"] * max(periods)


def test_each_alarm_decides_within_the_checkpoint_and_the_bake_time(ec2_plan: Plan) -> None:
    """A pause shorter than an alarm's window lets the refresh go on before the alarm can fire; after the last
    checkpoint only the bake time keeps rollback possible."""
    preferences = refresh_request(ec2_plan)["Preferences"]
    for alarm in deploy_alarms(ec2_plan):
        needed = alarm_window_seconds(alarm) + ALARM_DECISION_LAG_SECONDS
        assert preferences["CheckpointDelay"] >= needed, alarm["name"]
        assert preferences["BakeTime"] >= needed, alarm["name"]


def deploy_alarms(plan: Plan) -> list[dict[str, Any]]:
    alarms = [the(plan, ALARM, name) for name in ("app-fleet-deploy-errors", "app-fleet-deploy-unhealthy")]
    assert len({a["inputs"]["name"] for a in alarms}) == 2
    return alarms


class Series(float):
    """A metric value for evaluating the alarm's metric math: division by zero gives NaN, as in CloudWatch
    (Python would raise while evaluating the branch IF does not take)."""

    def __truediv__(self, other: float) -> float:
        return float("nan") if other == 0 else float(self) / other

    def __mul__(self, other: float) -> Series:
        return Series(float(self) * other)

    __rmul__ = __mul__

    def __add__(self, other: float) -> Series:
        return Series(float(self) + other)


def error_rate(alarm: dict[str, Any], metrics: dict[str, float | None]) -> float:
    """The alarm's expression evaluated on one minute's sums, by metric name (None: no datapoint)."""
    queries = alarm["inputs"]["metricQueries"]
    (expression,) = [q["expression"] for q in queries if q.get("returnData")]
    values = {q["id"]: metrics.get(q["metric"]["metricName"]) for q in queries if "metric" in q}
    functions = {
        "IF": lambda condition, then, otherwise: then if condition else otherwise,
        "FILL": lambda value, default: Series(default if value is None else value),
    }
    return eval(expression, {"__builtins__": {}}, {**functions, **values})  # noqa: S307 (our own plan's text)


def test_the_deploy_alarm_counts_5xx_from_the_app_and_from_the_load_balancer(ec2_plan: Plan) -> None:
    alarm = the(ec2_plan, ALARM, "app-fleet-deploy-errors")
    queries = {q["id"]: q for q in alarm["inputs"]["metricQueries"]}
    metrics = {q["metric"]["metricName"]: q["metric"] for q in queries.values() if "metric" in q}
    assert set(metrics) == {"HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "RequestCount"}
    for name, metric in metrics.items():
        assert metric["dimensions"]["LoadBalancer"].startswith("app/"), name
        assert (metric["stat"], metric["period"]) == ("Sum", 60), name
    assert metrics["RequestCount"]["dimensions"]["TargetGroup"].startswith("targetgroup/")
    assert [q["id"] for q in queries.values() if q.get("returnData")] == ["error_rate"]
    assert alarm["inputs"]["threshold"] == 5
    assert alarm["inputs"]["treatMissingData"] == "notBreaching"
    # A release whose targets all answer 502/503 has no target 5xx and no request reaching a target.
    assert error_rate(alarm, {"HTTPCode_ELB_5XX_Count": 40, "RequestCount": None}) == 100
    assert error_rate(alarm, {"HTTPCode_Target_5XX_Count": 30, "RequestCount": 100}) == 30
    assert error_rate(alarm, {"RequestCount": 1000}) == 0
    assert error_rate(alarm, {}) == 0, "a minute without traffic is not an error"


def capacity_shortfall(alarm: dict[str, Any], healthy: float | None, desired: float | None) -> float:
    """The capacity alarm's expression on one minute's values by query id (None: no datapoint)."""
    queries = alarm["inputs"]["metricQueries"]
    (expression,) = [q["expression"] for q in queries if q.get("returnData")]
    functions = {"FILL": lambda value, default: default if value is None else value}
    return eval(expression, {"__builtins__": {}}, {**functions, "healthy": healthy, "desired": desired})  # noqa: S307


def test_fewer_healthy_targets_than_desired_fails_the_deploy_within_a_few_minutes(ec2_plan: Plan) -> None:
    alarm = the(ec2_plan, ALARM, "app-fleet-deploy-unhealthy")
    inputs = alarm["inputs"]
    metrics = {q["id"]: q["metric"] for q in inputs["metricQueries"] if "metric" in q}
    healthy, desired = metrics["healthy"], metrics["desired"]
    assert (healthy["namespace"], healthy["metricName"], healthy["stat"]) == (
        "AWS/ApplicationELB",
        "HealthyHostCount",
        "Maximum",
    )
    assert healthy["dimensions"]["TargetGroup"].startswith("targetgroup/")
    assert healthy["dimensions"]["LoadBalancer"].startswith("app/")
    assert (desired["namespace"], desired["metricName"], desired["stat"]) == (
        "AWS/AutoScaling",
        "GroupDesiredCapacity",
        "Minimum",
    )
    assert desired["dimensions"] == {"AutoScalingGroupName": ec2_plan.outputs["autoScalingGroupName"]}
    assert "GroupDesiredCapacity" in group(ec2_plan)["inputs"]["enabledMetrics"], "the group publishes it"
    assert (inputs["comparisonOperator"], inputs["threshold"]) == ("GreaterThanThreshold", 0)
    # Longer than a healthy boot (the grace period bounds it: every scale-out's new instances are unhealthy
    # while they boot), short enough to decide within the checkpoint.
    minutes = inputs["evaluationPeriods"]
    assert inputs["datapointsToAlarm"] == minutes
    assert minutes * 60 >= group(ec2_plan)["inputs"]["healthCheckGracePeriod"]
    assert minutes <= 5
    assert capacity_shortfall(alarm, healthy=2, desired=4) > 0, "half the fleet never became healthy"
    assert capacity_shortfall(alarm, healthy=6, desired=4) <= 0, "a deploy runs above desired"
    assert capacity_shortfall(alarm, healthy=None, desired=4) > 0, "no healthy datapoint is no healthy target"
    assert capacity_shortfall(alarm, healthy=4, desired=None) <= 0


def test_target_capacity_is_owned_by_scaling_not_by_deploys(ec2_plan: Plan) -> None:
    assert "desiredCapacity" in group(ec2_plan)["options"]["ignoreChanges"]


def test_the_group_waits_for_the_forwarding_listener(ec2_plan: Plan) -> None:
    listeners = {r["urn"]: r for r in ec2_plan.of_type("aws:lb/listener:Listener")}
    forwarding = [urn for urn, r in listeners.items() if r["inputs"]["defaultActions"][0]["type"] == "forward"]
    assert set(forwarding) <= set(group(ec2_plan)["options"]["dependsOn"])
    assert forwarding


def test_target_tracking_on_cpu_and_on_requests_per_target(ec2_plan: Plan) -> None:
    policies = {
        p["inputs"]["targetTrackingConfiguration"]["predefinedMetricSpecification"]["predefinedMetricType"]: p
        for p in ec2_plan.of_type("aws:autoscaling/policy:Policy")
        if not p["name"].startswith("worker-fleet-")  # the job workers scale on queue depth (test_worker_fleet.py)
    }
    assert set(policies) == {"ASGAverageCPUUtilization", "ALBRequestCountPerTarget"}
    for policy in policies.values():
        assert policy["inputs"]["policyType"] == "TargetTrackingScaling"
        assert policy["inputs"]["autoscalingGroupName"] == ec2_plan.outputs["autoScalingGroupName"]
    requests = policies["ALBRequestCountPerTarget"]["inputs"]["targetTrackingConfiguration"]
    alb = the(ec2_plan, "aws:lb/loadBalancer:LoadBalancer")
    label = requests["predefinedMetricSpecification"]["resourceLabel"]
    assert label.startswith(f"app/{alb['name']}/")
    assert "/targetgroup/" in label
    cpu = policies["ASGAverageCPUUtilization"]["inputs"]["targetTrackingConfiguration"]["targetValue"]
    # The measured throughput at the CPU target (704 requests/s per vCPU), a minute's worth per instance: c7g.medium
    # has 1 vCPU, t4g.medium 2.
    expected_cpu, expected_requests = {"A": (50, 704 * 60), "C": (40, 2 * 704 * 60)}[ec2_plan.tier]
    assert (cpu, requests["targetValue"]) == (expected_cpu, expected_requests)


def test_the_app_log_group_is_retained_and_kept_in_production(ec2_plan: Plan) -> None:
    log_group = the(ec2_plan, "aws:cloudwatch/logGroup:LogGroup", "app-fleet-logs")
    inputs = log_group["inputs"]
    assert inputs["name"] == ec2_plan.outputs["appLogGroup"] == f"/contentry-{ec2_plan.stack}/api"
    production = ec2_plan.outputs["environment"] == "production"
    assert inputs["retentionInDays"] == (365 if production else 7)
    assert log_group["options"]["protect"] is production
    assert log_group["options"]["retainOnDelete"] is production


@pytest.mark.parametrize("stack_id", EKS_STACKS)
def test_tier_b_gets_no_ec2_fleet(stack_id: str) -> None:
    plan = stack_plan(stack_id)
    assert not plan.of_type(AUTO_SCALING_GROUP)
    # Its only launch template is the EKS node group's (tests/infra/kubernetes).
    assert [t["name"] for t in plan.of_type(LAUNCH_TEMPLATE)] == ["nodes-template"]
    assert not plan.of_type(ROLLOUT)
    assert "autoScalingGroupName" not in plan.outputs


def urns_named(plan: Plan, *names: str) -> set[str]:
    found = {r["urn"] for r in plan.resources if r["name"] in names}
    assert len(found) == len(names), f"missing: {set(names) - {r['name'] for r in plan.resources}}"
    return found


def test_instances_launch_only_once_their_first_boot_can_succeed(ec2_plan: Plan) -> None:
    """The secret's value, the database user, Atlas's access list, the routes to Atlas and through the NAT: on
    a new stack, instances that boot before these fail, churn, and leave the unhealthy alarm firing."""
    depends_on = set(group(ec2_plan)["options"]["dependsOn"])
    azs = len(ec2_plan.outputs["availabilityZones"])
    needed = urns_named(
        ec2_plan,
        "app-secret-secret",
        "app-secret-version",
        "database-app-user",
        "database-access-vpc",
        "network-s3-endpoint",
        *(f"database-atlas-route-{index}" for index in range(azs)),
        *(f"network-private-default-route-{index}" for index in range(azs)),
        *(f"network-private-rta-{index}" for index in range(azs)),
    )
    assert needed <= depends_on, sorted(needed - depends_on)
