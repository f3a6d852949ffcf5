"""`verify`: a deployed stack checked from its outputs, against moto for AWS (ELBv2, Auto Scaling, CloudWatch,
the tagging API) and a local HTTPS server for the URL. Each check passes on a healthy stack and fails, named,
on the one thing a test breaks; the CLI exits 1 naming it, 2 on bad input."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.cli import run
from infra.verify.health_url import UrlCheckArgs, check_url
from infra.verify.run import AwsClients, VerifyOptions, run_checks, verify
from tests.app.support import FakeClock
from tests.ci.health_server import ServerCertificates, health_server, make_certificates

REGION = "us-east-1"
PROJECT, STACK = "contentry", "dev"


@pytest.fixture(autouse=True)
def _aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> ServerCertificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@dataclass
class Stack:
    """A deployed stack in moto: an ASG of 2 behind an instance target group, two tagged alarms."""

    outputs: dict[str, Any]
    clients: AwsClients
    instance_ids: list[str]


def _tags(stack: str = STACK) -> list[dict[str, str]]:
    return [
        {"Key": "Project", "Value": PROJECT},
        {"Key": "Stack", "Value": stack},
        {"Key": "ManagedBy", "Value": "pulumi"},
    ]


@pytest.fixture
def stack(certificates: ServerCertificates) -> Iterator[Stack]:
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        ec2, elbv2, autoscaling = session.client("ec2"), session.client("elbv2"), session.client("autoscaling")
        cloudwatch = session.client("cloudwatch")
        vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.10.0.0/24", AvailabilityZone=f"{REGION}a")
        group = elbv2.create_target_group(
            Name="app-tg-1234", Protocol="HTTP", Port=8000, VpcId=vpc, TargetType="instance"
        )["TargetGroups"][0]
        image = ec2.describe_images()["Images"][0]["ImageId"]
        template = ec2.create_launch_template(
            LaunchTemplateName="app", LaunchTemplateData={"ImageId": image, "InstanceType": "t4g.large"}
        )["LaunchTemplate"]["LaunchTemplateId"]
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName="app-asg-1234",
            LaunchTemplate={"LaunchTemplateId": template, "Version": "1"},
            MinSize=2,
            MaxSize=4,
            DesiredCapacity=2,
            VPCZoneIdentifier=subnet["Subnet"]["SubnetId"],
            TargetGroupARNs=[group["TargetGroupArn"]],
        )
        instances = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["app-asg-1234"])
        instance_ids = [i["InstanceId"] for i in instances["AutoScalingGroups"][0]["Instances"]]
        elbv2.register_targets(
            TargetGroupArn=group["TargetGroupArn"], Targets=[{"Id": i, "Port": 8000} for i in instance_ids]
        )
        for name in ("contentry-dev-app-5xx-rate", "contentry-dev-app-unhealthy-targets"):
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="AWS/ApplicationELB",
                MetricName="HTTPCode_Target_5XX_Count",
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=3,
                Threshold=5,
                ComparisonOperator="GreaterThanThreshold",
                Tags=_tags(),
            )
        with health_server(certificates) as server:
            outputs = {
                "region": REGION,
                "environment": "development",
                "url": server.url,
                "albDnsName": "contentry-dev-alb-1.us-east-1.elb.amazonaws.com",
                "targetGroupName": "app-tg-1234",
                "autoScalingGroupName": "app-asg-1234",
                "appSecretArn": "[secret]",
            }
            yield Stack(outputs, AwsClients.for_region(REGION), instance_ids)


def _options(certificates: ServerCertificates) -> VerifyOptions:
    return VerifyOptions(ca_bundle=certificates.ca_bundle, http_timeout_seconds=10)


def _by_name(results: list[Any]) -> dict[str, Any]:
    return {r.name: r for r in results}


def test_a_healthy_stack_passes_every_check(stack: Stack, certificates: ServerCertificates) -> None:
    results = run_checks(stack.outputs, PROJECT, STACK, stack.clients, _options(certificates))
    assert [r.name for r in results] == ["url", "targets", "capacity", "alarms"]
    assert all(r.ok for r in results), results
    checks = _by_name(results)
    assert "answered 200" in checks["url"].detail
    assert "all 2 targets" in checks["targets"].detail
    assert "2 healthy in-service instance(s) (minimum 2)" in checks["capacity"].detail
    assert "2 alarms" in checks["alarms"].detail


def test_a_firing_alarm_fails_naming_it(stack: Stack, certificates: ServerCertificates) -> None:
    stack.clients.cloudwatch.set_alarm_state(
        AlarmName="contentry-dev-app-5xx-rate", StateValue="ALARM", StateReason="Threshold Crossed: 3 datapoints"
    )
    checks = _by_name(run_checks(stack.outputs, PROJECT, STACK, stack.clients, _options(certificates)))
    assert not checks["alarms"].ok
    assert "contentry-dev-app-5xx-rate (Threshold Crossed: 3 datapoints)" in checks["alarms"].detail
    assert "unhealthy-targets" not in checks["alarms"].detail
    assert all(checks[name].ok for name in ("url", "targets", "capacity"))


def test_alarms_of_another_stack_or_untagged_ones_are_not_this_stacks(
    stack: Stack, certificates: ServerCertificates
) -> None:
    """prod's firing alarm, and the untagged alarms AWS creates for target tracking, do not fail dev."""
    cloudwatch = stack.clients.cloudwatch
    for name, tags in (("contentry-prod-app-5xx-rate", _tags("prod")), ("TargetTracking-app-asg-AlarmLow-1", [])):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/EC2",
            MetricName="CPUUtilization",
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=50,
            ComparisonOperator="LessThanThreshold",
            Tags=tags,
        )
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="firing elsewhere")
    checks = _by_name(run_checks(stack.outputs, PROJECT, STACK, stack.clients, _options(certificates)))
    assert checks["alarms"].ok, checks["alarms"].detail
    assert "2 alarms" in checks["alarms"].detail


def test_a_stack_without_tagged_alarms_cannot_pass_the_alarm_check(
    stack: Stack, certificates: ServerCertificates
) -> None:
    checks = _by_name(run_checks(stack.outputs, PROJECT, "staging", stack.clients, _options(certificates)))
    assert not checks["alarms"].ok
    assert "no CloudWatch alarm is tagged Project=contentry, Stack=staging" in checks["alarms"].detail


def test_an_unhealthy_target_fails_naming_it(stack: Stack, certificates: ServerCertificates) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    ec2.stop_instances(InstanceIds=[stack.instance_ids[0]])
    checks = _by_name(run_checks(stack.outputs, PROJECT, STACK, stack.clients, _options(certificates)))
    assert not checks["targets"].ok
    assert f"1 of 2 targets in app-tg-1234 are not healthy: {stack.instance_ids[0]}:8000 unused" in (
        checks["targets"].detail
    )


def test_an_empty_target_group_fails(stack: Stack, certificates: ServerCertificates) -> None:
    elbv2 = stack.clients.elbv2
    arn = elbv2.describe_target_groups(Names=["app-tg-1234"])["TargetGroups"][0]["TargetGroupArn"]
    elbv2.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": i, "Port": 8000} for i in stack.instance_ids])
    checks = _by_name(run_checks(stack.outputs, PROJECT, STACK, stack.clients, _options(certificates)))
    assert not checks["targets"].ok
    assert "has no registered target" in checks["targets"].detail


def test_a_fleet_below_its_minimum_fails_naming_the_instance(stack: Stack, certificates: ServerCertificates) -> None:
    stack.clients.autoscaling.set_instance_health(InstanceId=stack.instance_ids[1], HealthStatus="Unhealthy")
    checks = _by_name(run_checks(stack.outputs, PROJECT, STACK, stack.clients, _options(certificates)))
    assert not checks["capacity"].ok
    detail = checks["capacity"].detail
    assert "runs 1 healthy in-service instance(s), below its minimum of 2" in detail
    assert f"{stack.instance_ids[1]} InService/Unhealthy" in detail


def test_tier_b_counts_the_healthy_pods_in_the_ip_target_group(stack: Stack, certificates: ServerCertificates) -> None:
    """No Kubernetes credentials in verify: the pods the controller registered stand for the Deployment."""
    elbv2, ec2 = stack.clients.elbv2, boto3.client("ec2", region_name=REGION)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.10.0.0/16"]}])["Vpcs"][0]["VpcId"]
    arn = elbv2.create_target_group(Name="pods-tg", Protocol="HTTP", Port=8000, VpcId=vpc, TargetType="ip")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": f"10.10.0.{n}", "Port": 8000} for n in (10, 11)])
    outputs = {k: v for k, v in stack.outputs.items() if k != "autoScalingGroupName"} | {
        "targetGroupName": "pods-tg",
        "appMinReplicas": 2,
    }
    checks = _by_name(run_checks(outputs, PROJECT, STACK, stack.clients, _options(certificates)))
    assert checks["capacity"].ok, checks["capacity"].detail
    assert "2 healthy pod(s) in pods-tg (minimum 2)" in checks["capacity"].detail

    checks = _by_name(
        run_checks(outputs | {"appMinReplicas": 3}, PROJECT, STACK, stack.clients, _options(certificates))
    )
    assert not checks["capacity"].ok
    assert "2 healthy pod(s) in pods-tg, below the HorizontalPodAutoscaler's minimum of 3" in checks["capacity"].detail


def test_missing_outputs_fail_each_named_check(stack: Stack, certificates: ServerCertificates) -> None:
    outputs = {"region": REGION, "environment": "production"}
    checks = _by_name(run_checks(outputs, PROJECT, STACK, stack.clients, _options(certificates)))
    assert not checks["url"].ok
    assert "no `url` output" in checks["url"].detail
    assert not checks["targets"].ok
    assert "no `targetGroupName` output" in checks["targets"].detail
    assert not checks["capacity"].ok
    assert "neither `autoScalingGroupName`" in checks["capacity"].detail


# The URL -----------------------------------------------------------------------------------------------------


def test_https_is_verified_against_the_given_ca_bundle(certificates: ServerCertificates) -> None:
    with health_server(certificates) as server:
        trusted = check_url(UrlCheckArgs(server.url, "production", ca_bundle=certificates.ca_bundle))
        untrusted = check_url(UrlCheckArgs(server.url, "production"))
    assert trusted.ok, trusted.detail
    assert server.paths == ["/api/health"]  # the untrusted request never got as far as HTTP
    assert not untrusted.ok
    assert "the TLS certificate is not trusted" in untrusted.detail


def test_a_health_endpoint_answering_503_fails_with_the_status(certificates: ServerCertificates) -> None:
    with health_server(certificates, status=503) as server:
        result = check_url(UrlCheckArgs(server.url, "production", ca_bundle=certificates.ca_bundle))
    assert not result.ok
    assert result.detail == f"GET {server.url}/api/health answered 503 Service Unavailable, not 200"


def test_plain_http_only_for_development_on_the_load_balancers_own_name() -> None:
    with health_server() as server:
        host = "127.0.0.1"
        development = check_url(UrlCheckArgs(server.url, "development", alb_dns_name=host))
        production = check_url(UrlCheckArgs(server.url, "production", alb_dns_name=host))
        other_host = check_url(UrlCheckArgs(server.url, "development", alb_dns_name="other.elb.amazonaws.com"))
    assert development.ok, development.detail
    assert "plain HTTP: a development stack without a domain" in development.detail
    assert not production.ok
    assert "is plain HTTP" in production.detail
    assert not other_host.ok
    assert server.paths == ["/api/health"]  # refused URLs are never requested


def test_a_refused_connection_fails_with_the_reason(certificates: ServerCertificates) -> None:
    with health_server(certificates) as server:
        url = server.url
    result = check_url(UrlCheckArgs(url, "production", ca_bundle=certificates.ca_bundle, timeout_seconds=5))
    assert not result.ok
    assert result.detail.startswith(f"GET {url}/api/health failed:")


# Retries, and the command ------------------------------------------------------------------------------------


def test_verify_retries_until_the_checks_pass_or_the_wait_runs_out(
    stack: Stack, certificates: ServerCertificates
) -> None:
    stack.clients.cloudwatch.set_alarm_state(
        AlarmName="contentry-dev-app-5xx-rate", StateValue="ALARM", StateReason="still settling"
    )
    clock = FakeClock()
    rounds: list[list[str]] = []

    def sleep(seconds: float) -> None:
        clock.advance(seconds)
        if len(rounds) == 2:  # the alarm settles after the second failed round
            stack.clients.cloudwatch.set_alarm_state(
                AlarmName="contentry-dev-app-5xx-rate", StateValue="OK", StateReason="settled"
            )

    options = VerifyOptions(ca_bundle=certificates.ca_bundle, wait_seconds=120, interval_seconds=15)
    results = verify(
        stack.outputs,
        PROJECT,
        STACK,
        stack.clients,
        options,
        clock=clock,
        sleep=sleep,
        on_retry=lambda r: rounds.append([c.name for c in r if not c.ok]),
    )
    assert all(r.ok for r in results)
    assert rounds == [["alarms"], ["alarms"]]

    stack.clients.cloudwatch.set_alarm_state(
        AlarmName="contentry-dev-app-5xx-rate", StateValue="ALARM", StateReason="for good"
    )
    rounds.clear()
    results = verify(
        stack.outputs,
        PROJECT,
        STACK,
        stack.clients,
        options,
        clock=clock,
        sleep=clock.advance,
        on_retry=lambda r: rounds.append([c.name for c in r if not c.ok]),
    )
    assert not _by_name(results)["alarms"].ok
    assert len(rounds) == 120 // 15  # every round within the wait, then the last one's result


def test_cli_with_an_outputs_file_exits_1_naming_the_failed_check(
    stack: Stack, certificates: ServerCertificates, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(stack.outputs), encoding="utf-8")
    args = ["verify", "--stack", STACK, "--outputs", str(outputs), "--ca-bundle", str(certificates.ca_bundle)]
    assert run(args) == 0
    assert "every check passed" in capsys.readouterr().out

    stack.clients.autoscaling.set_instance_health(InstanceId=stack.instance_ids[0], HealthStatus="Unhealthy")
    assert run(args) == 1
    captured = capsys.readouterr()
    assert "FAIL capacity" in captured.out
    assert "verify: stack dev FAILED: capacity" in captured.err


def _fake_pulumi(folder: Path, outputs: dict[str, Any]) -> Path:
    """A `pulumi` on PATH that answers `stack output --json --stack dev` as the CLI does, and fails otherwise."""
    (folder / "outputs.json").write_text(json.dumps(outputs), encoding="utf-8")
    script = folder / "pulumi"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$*" = "stack output --json --stack {STACK}" ]; then cat "{folder}/outputs.json"; exit 0; fi\n'
        'echo "error: no stack named $5" >&2; exit 255\n',
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def test_cli_reads_the_outputs_from_the_pulumi_cli(
    stack: Stack,
    certificates: ServerCertificates,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", f"{_fake_pulumi(tmp_path, stack.outputs)}{os.pathsep}{os.environ['PATH']}")
    assert run(["verify", "--stack", STACK, "--ca-bundle", str(certificates.ca_bundle)]) == 0
    assert "every check passed" in capsys.readouterr().out
    assert run(["verify", "--stack", "qa"]) == 2
    assert "pulumi stack output --json --stack qa failed: error: no stack named qa" in capsys.readouterr().err


def test_cli_bad_input_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi here
    assert run(["verify", "--stack", STACK]) == 2
    assert "the Pulumi CLI (pulumi) is not on PATH" in capsys.readouterr().err
    bad = tmp_path / "outputs.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    assert run(["verify", "--stack", STACK, "--outputs", str(bad)]) == 2
    assert "expected a JSON object of outputs, found list" in capsys.readouterr().err
    bad.write_text(json.dumps({"url": "https://x"}), encoding="utf-8")
    assert run(["verify", "--stack", STACK, "--outputs", str(bad)]) == 2
    assert "have no `region`" in capsys.readouterr().err
    assert run(["verify", "--stack", STACK, "--outputs", str(bad), "--ca-bundle", str(tmp_path / "none.pem")]) == 2
    assert "--ca-bundle" in capsys.readouterr().err


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_outputs_ci_reads_are_the_ones_the_program_exports(stack: str) -> None:
    """verify's outputs, and appImageTag (the image previews and drift checks run with), in tiers A and C."""
    from tests.infra.plans import plan_of

    plan = plan_of(stack)
    expected = {"url", "environment", "albDnsName", "targetGroupName", "autoScalingGroupName", "region", "appImageTag"}
    assert expected <= set(plan.outputs)
    assert plan.outputs["appImageTag"] == plan.config["compute"]["appImageTag"]
