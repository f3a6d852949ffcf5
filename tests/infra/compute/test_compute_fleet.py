"""The app fleet through the plan of every EC2 stack: the image repository, the launch template (AMI,
IMDSv2, encrypted gp3, no SSH key), the instance role, the Auto Scaling group (sizes, ELB health, rolling
refresh with rollback, never `$Latest`) and its scaling policies."""

from __future__ import annotations

import json
from typing import Any

import pulumi.runtime
import pytest

from infra.plan.document import Plan
from infra.plan.mocks import PlanMocks
from infra.planning.compute.ami import Architecture, al2023_ami_parameter
from infra.planning.compute.instance_policy import ACTIONS_WITHOUT_RESOURCE_SCOPE
from tests.infra.compute.compute_support import (
    AUTO_SCALING_GROUP,
    EC2_STACKS,
    EKS_STACKS,
    FLEET_SIZES,
    LAUNCH_TEMPLATE,
    id_of,
    stack_plan,
    the,
)

INSTANCE_TYPES = {"A": "c7g.xlarge", "C": "t4g.large"}  # Graviton presets (prices.md: ~15% below x86)


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


def template(plan: Plan) -> dict[str, Any]:
    return the(plan, LAUNCH_TEMPLATE)["inputs"]


def group(plan: Plan) -> dict[str, Any]:
    return the(plan, AUTO_SCALING_GROUP)


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
    assert inputs["imageId"] == ami_for(plan.outputs["region"], Architecture.ARM64)


def test_an_x86_instance_type_boots_the_x86_image() -> None:
    plan = stack_plan("prod", ("computeInstanceType=c6i.xlarge",))
    assert template(plan)["imageId"] == ami_for("us-east-1", Architecture.X86_64)
    assert ami_for("us-east-1", Architecture.X86_64) != ami_for("us-east-1", Architecture.ARM64)


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
    profile = the(ec2_plan, "aws:iam/instanceProfile:InstanceProfile")
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


def test_the_group_runs_the_templates_latest_version_number(ec2_plan: Plan) -> None:
    launch_template = group(ec2_plan)["inputs"]["launchTemplate"]
    assert launch_template["id"] == id_of(the(ec2_plan, LAUNCH_TEMPLATE))
    assert launch_template["version"] == "1"  # the template's latestVersion as the offline engine reports it
    assert template(ec2_plan)["updateDefaultVersion"] is True


def test_nothing_references_latest_or_default_versions(any_plan: Plan) -> None:
    for resource in any_plan.resources:
        text = json.dumps(resource["inputs"])
        assert "$Latest" not in text, resource["urn"]
        assert "$Default" not in text, resource["urn"]


def test_instance_refresh_rolls_with_checkpoints_and_rolls_back(ec2_plan: Plan) -> None:
    refresh = group(ec2_plan)["inputs"]["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    preferences = refresh["preferences"]
    assert preferences["minHealthyPercentage"] >= 90
    assert preferences["maxHealthyPercentage"] > preferences["minHealthyPercentage"]
    assert preferences["checkpointPercentages"][-1] == 100
    assert len(preferences["checkpointPercentages"]) >= 2
    assert preferences["autoRollback"] is True
    alarm = the(ec2_plan, "aws:cloudwatch/metricAlarm:MetricAlarm", "app-fleet-deploy-errors")
    assert preferences["alarmSpecification"]["alarms"] == [alarm["inputs"]["name"]]


def test_the_deploy_alarm_watches_the_targets_5xx_share(ec2_plan: Plan) -> None:
    alarm = the(ec2_plan, "aws:cloudwatch/metricAlarm:MetricAlarm", "app-fleet-deploy-errors")["inputs"]
    queries = {q["id"]: q for q in alarm["metricQueries"]}
    assert queries["errors"]["metric"]["metricName"] == "HTTPCode_Target_5XX_Count"
    assert queries["requests"]["metric"]["metricName"] == "RequestCount"
    dimensions = queries["errors"]["metric"]["dimensions"]
    assert dimensions["TargetGroup"].startswith("targetgroup/")
    assert dimensions["LoadBalancer"].startswith("app/")
    assert [q["id"] for q in alarm["metricQueries"] if q.get("returnData")] == ["error_rate"]
    assert alarm["treatMissingData"] == "notBreaching"


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
    expected_cpu, expected_requests = {"A": (50, 24_000), "C": (40, 12_000)}[ec2_plan.tier]
    assert (cpu, requests["targetValue"]) == (expected_cpu, expected_requests)


def test_the_app_log_group_is_retained(ec2_plan: Plan) -> None:
    log_group = the(ec2_plan, "aws:cloudwatch/logGroup:LogGroup", "app-fleet-logs")["inputs"]
    assert log_group["name"] == ec2_plan.outputs["appLogGroup"] == f"/contentry-{ec2_plan.stack}/api"
    assert log_group["retentionInDays"] == (365 if ec2_plan.tier == "A" else 30)


@pytest.mark.parametrize("stack_id", EKS_STACKS)
def test_tier_b_gets_no_ec2_fleet(stack_id: str) -> None:
    plan = stack_plan(stack_id)
    assert not plan.of_type(AUTO_SCALING_GROUP)
    assert not plan.of_type(LAUNCH_TEMPLATE)
    assert "autoScalingGroupName" not in plan.outputs
