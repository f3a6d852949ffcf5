"""The load balancer through the plan of every EC2 stack: public subnets, header hygiene, deletion protection,
access logs, listeners (HTTPS with a TLS 1.3 policy and a DNS-validated certificate, or plain HTTP in a
domain-less dev stack), the health-checked target group, the DNS name and the stack outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.plan.document import Plan
from tests.infra.compute.compute_support import EC2_STACKS, id_of, stack_plan, the

LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
TLS13_POLICIES = ("ELBSecurityPolicy-TLS13-",)


@pytest.fixture(params=sorted(EC2_STACKS))
def ec2_plan(request: pytest.FixtureRequest) -> Plan:
    return stack_plan(request.param)


def alb(plan: Plan) -> dict[str, Any]:
    return the(plan, LOAD_BALANCER)


def listeners(plan: Plan) -> dict[int, dict[str, Any]]:
    found = {r["inputs"]["port"]: r for r in plan.of_type(LISTENER)}
    assert len(found) == len(plan.of_type(LISTENER)), "one listener per port"
    return found


def test_the_alb_is_public_in_every_az(ec2_plan: Plan) -> None:
    inputs = alb(ec2_plan)["inputs"]
    assert inputs["loadBalancerType"] == "application"
    assert inputs["internal"] is False
    assert inputs["ipAddressType"] == "dualstack", "IPv6 clients are admitted by the security group: serve them"
    public = sorted(
        id_of(s) for s in ec2_plan.of_type("aws:ec2/subnet:Subnet") if s["inputs"]["tags"]["SubnetTier"] == "public"
    )
    assert sorted(inputs["subnets"]) == public
    assert len(public) >= 2


def test_the_alb_drops_invalid_headers_and_sets_timeouts_on_purpose(ec2_plan: Plan) -> None:
    inputs = alb(ec2_plan)["inputs"]
    assert inputs["dropInvalidHeaderFields"] is True
    assert inputs["enableHttp2"] is True
    assert inputs["idleTimeout"] == 60  # below gunicorn's 75 s keep-alive (app/gunicorn.conf.py)


def test_deletion_protection_in_production_only() -> None:
    assert alb(stack_plan("prod"))["inputs"]["enableDeletionProtection"] is True
    assert alb(stack_plan("prod-tier-C"))["inputs"]["enableDeletionProtection"] is True
    assert alb(stack_plan("dev"))["inputs"]["enableDeletionProtection"] is False


def test_access_logs_go_to_a_private_encrypted_expiring_bucket(ec2_plan: Plan) -> None:
    access_logs = alb(ec2_plan)["inputs"]["accessLogs"]
    assert access_logs["enabled"] is True
    bucket = the(ec2_plan, "aws:s3/bucket:Bucket", "load-balancer-logs")
    assert access_logs["bucket"] == f"{bucket['name']}-offline"  # the bucket's own (auto-generated) name
    bucket_id = id_of(bucket)

    def for_bucket(type_token: str) -> dict[str, Any]:
        (found,) = [r for r in ec2_plan.of_type(type_token) if r["inputs"]["bucket"] == bucket_id]
        return found["inputs"]

    block = for_bucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(
        block[flag] for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    (rule,) = for_bucket("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[
        "rules"
    ]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"  # ALB log delivery needs SSE-S3
    (lifecycle,) = for_bucket("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")["rules"]
    assert lifecycle["status"] == "Enabled"
    production = ec2_plan.config["environment"] == "production"
    assert lifecycle["expiration"]["days"] == (365 if production else 7)
    policy = json.loads(for_bucket("aws:s3/bucketPolicy:BucketPolicy")["policy"])
    assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in policy["Statement"])
    policy_resource = the(ec2_plan, "aws:s3/bucketPolicy:BucketPolicy", "load-balancer-logs-policy")
    assert policy_resource["urn"] in alb(ec2_plan)["options"]["dependsOn"], "AWS checks write access first"
    block_urn = the(
        ec2_plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "load-balancer-logs-public-access-block"
    )["urn"]
    # Put together, the two fail with OperationAborted (a conflicting operation on the bucket).
    assert block_urn in policy_resource["options"]["dependsOn"], "the policy must wait for the public access block"
    production = ec2_plan.stack == "prod"
    assert bucket["inputs"]["forceDestroy"] is not production


def log_writers(plan: Plan) -> list[dict[str, Any]]:
    policy = json.loads(the(plan, "aws:s3/bucketPolicy:BucketPolicy", "load-balancer-logs-policy")["inputs"]["policy"])
    return [s["Principal"] for s in policy["Statement"] if s["Effect"] == "Allow"]


def test_a_region_older_than_august_2022_lets_its_elb_account_and_the_service_write_the_logs() -> None:
    # us-east-1's Elastic Load Balancing account, as AWS documents it.
    assert log_writers(stack_plan("dev")) == [
        {"AWS": "arn:aws:iam::127311923021:root"},
        {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
    ]


@pytest.mark.parametrize("region", ["eu-central-2", "ap-southeast-4", "il-central-1"])
def test_a_newer_region_plans_and_lets_only_the_log_delivery_service_write(region: str) -> None:
    """Those regions have no ELB account: the provider's lookup fails there, so the plan would not build."""
    plan = stack_plan("dev", (f"aws:region={region}",))
    assert plan.outputs["region"] == region
    assert log_writers(plan) == [{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}]


@pytest.mark.parametrize("stack_id", ["prod", "prod-tier-C"])
def test_https_with_a_tls13_policy_and_http_redirects(stack_id: str) -> None:
    plan = stack_plan(stack_id)
    by_port = listeners(plan)
    assert set(by_port) == {80, 443}
    https = by_port[443]["inputs"]
    assert https["protocol"] == "HTTPS"
    assert https["sslPolicy"].startswith(TLS13_POLICIES)
    assert https["defaultActions"][0]["type"] == "forward"
    redirect = by_port[80]["inputs"]["defaultActions"][0]
    assert redirect["type"] == "redirect"
    assert redirect["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}


@pytest.mark.parametrize("stack_id", ["prod", "prod-tier-C"])
def test_the_certificate_is_dns_validated_in_the_configured_zone(stack_id: str) -> None:
    plan = stack_plan(stack_id)
    certificate = the(plan, "aws:acm/certificate:Certificate", "load-balancer-certificate")
    assert certificate["inputs"]["domainName"] == "api.example.com"  # the stack file's offline domain
    assert certificate["inputs"]["validationMethod"] == "DNS"
    record = the(plan, "aws:route53/record:Record", "load-balancer-certificate-validation-record")
    assert record["inputs"]["zoneId"] == "Z0OFFLINEPLANZONE"
    assert record["inputs"]["type"] == "CNAME"
    validation = the(
        plan, "aws:acm/certificateValidation:CertificateValidation", "load-balancer-certificate-validation"
    )
    assert validation["inputs"]["validationRecordFqdns"] == [record["inputs"]["name"].rstrip(".")]
    https = listeners(plan)[443]
    # The listener takes the ARN from the validation, so it never gets a certificate that is still pending.
    assert validation["urn"] in https["options"]["dependsOn"]


@pytest.mark.parametrize("stack_id", ["prod", "prod-tier-C"])
def test_the_domain_points_at_the_alb_over_ipv4_and_ipv6(stack_id: str) -> None:
    plan = stack_plan(stack_id)
    aliases = [
        r["inputs"] for r in plan.of_type("aws:route53/record:Record") if r["name"].startswith("load-balancer-alias")
    ]
    # The ALB is dual-stack: without the AAAA alias IPv6 clients never learn its IPv6 addresses.
    assert sorted(alias["type"] for alias in aliases) == ["A", "AAAA"]
    alb_inputs = alb(plan)["inputs"]
    assert alb_inputs["ipAddressType"] == "dualstack"
    for alias in aliases:
        assert (alias["name"], alias["zoneId"]) == ("api.example.com", "Z0OFFLINEPLANZONE")
        (target,) = alias["aliases"]
        assert target["name"] == plan.outputs["albDnsName"]
        assert target["evaluateTargetHealth"] is True
    assert plan.outputs["url"] == "https://api.example.com"


def test_a_stack_without_a_domain_serves_plain_http_on_the_alb_name() -> None:
    plan = stack_plan("dev")
    by_port = listeners(plan)
    assert set(by_port) == {80}
    assert by_port[80]["inputs"]["protocol"] == "HTTP"
    assert by_port[80]["inputs"]["defaultActions"][0]["type"] == "forward"
    assert not [c for c in plan.of_type("aws:acm/certificate:Certificate") if c["name"].startswith("load-balancer")]
    assert plan.outputs["url"] == f"http://{plan.outputs['albDnsName']}"


def test_the_target_group_checks_the_cheap_health_endpoint(ec2_plan: Plan) -> None:
    inputs = the(ec2_plan, TARGET_GROUP)["inputs"]
    assert (inputs["targetType"], inputs["port"], inputs["protocol"]) == ("instance", 8000, "HTTP")
    assert inputs["vpcId"] == "network-vpc-id"
    check = inputs["healthCheck"]
    assert check["path"] == "/api/health"  # never /ready: a slow database must not fail every target
    assert check["matcher"] == "200"
    assert check["port"] == "traffic-port"
    assert check["timeout"] < check["interval"] <= 30
    assert 2 <= check["healthyThreshold"] <= 3
    assert 2 <= check["unhealthyThreshold"] <= 5
    assert inputs["deregistrationDelay"] <= 60  # default 300 would slow every deploy
    assert 30 <= inputs["slowStart"] <= 120
    assert inputs["loadBalancingAlgorithmType"] == "round_robin"  # slow start needs it


def test_every_listener_forwards_to_the_app_target_group_or_redirects(ec2_plan: Plan) -> None:
    target_group_name = ec2_plan.outputs["targetGroupName"]
    for listener in ec2_plan.of_type(LISTENER):
        (action,) = listener["inputs"]["defaultActions"]
        if action["type"] == "forward":
            assert f":targetgroup/{target_group_name}/" in action["targetGroupArn"]
        else:
            assert action["type"] == "redirect", listener["name"]


def test_the_stack_exports_url_alb_target_group_and_group_names(ec2_plan: Plan) -> None:
    outputs = ec2_plan.outputs
    for key in ("url", "albDnsName", "targetGroupName", "autoScalingGroupName", "imageRepositoryUrl"):
        assert outputs.get(key), f"{ec2_plan.stack}: stack output {key} is missing"
    assert outputs["albDnsName"].endswith(".elb.amazonaws.com")
    assert outputs["url"].startswith("https://" if ec2_plan.stack == "prod" else "http")
