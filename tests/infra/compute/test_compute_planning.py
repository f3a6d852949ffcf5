"""The compute tier's pure planning: AMI parameters, image references, the ECR lifecycle, scaling numbers,
health-check timing, and the IAM and bucket policy documents. No mocks, no plan."""

from __future__ import annotations

import json

import botocore.session
import pytest
from pydantic import ValidationError

from infra.config.model import CacheSettings, ComputeSettings
from infra.planning.compute import health_check as timing
from infra.planning.compute.alb_logs import (
    ACCESS_LOG_PREFIX,
    ELB_LOG_DELIVERY_SERVICE,
    LEGACY_ELB_ACCOUNT_REGIONS,
    alb_log_bucket_policy,
    uses_legacy_elb_account,
)
from infra.planning.compute.ami import Architecture, al2023_ami_parameter, architecture_of
from infra.planning.compute.image import image_reference, is_digest, registry_host
from infra.planning.compute.instance_policy import (
    ACTIONS_WITHOUT_RESOURCE_SCOPE,
    InstanceGrants,
    ec2_assume_role_policy,
    instance_policy_document,
)
from infra.planning.compute.registry import IMAGES_KEPT, lifecycle_policy
from infra.planning.compute.scaling import (
    BURSTABLE_CPU_TARGET_PERCENT,
    CPU_TARGET_PERCENT,
    REFRESH_CHECKPOINTS,
    REFRESH_MAX_HEALTHY_PERCENT,
    REFRESH_MIN_HEALTHY_PERCENT,
    FleetSize,
    cpu_target_percent,
    is_burstable,
    requests_per_target_per_minute,
)

REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/contentry-dev/api"
DIGEST = "sha256:" + "0f" * 32


@pytest.mark.parametrize(
    ("instance_type", "architecture"),
    [
        ("c7g.xlarge", "arm64"),
        ("t4g.large", "arm64"),
        ("m6gd.large", "arm64"),
        ("c6i.xlarge", "x86_64"),
        ("t3.large", "x86_64"),
        ("c5.xlarge", "x86_64"),
    ],
)
def test_graviton_types_boot_the_arm64_image(instance_type: str, architecture: str) -> None:
    is_graviton = ComputeSettings.model_construct(instance_type=instance_type).is_graviton
    parameter = al2023_ami_parameter(architecture_of(is_graviton=is_graviton))
    assert parameter == f"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{architecture}"


def test_every_architecture_has_a_public_al2023_parameter() -> None:
    parameters = {al2023_ami_parameter(a) for a in Architecture}
    assert len(parameters) == len(Architecture)
    assert all(p.startswith("/aws/service/ami-amazon-linux-latest/al2023-") for p in parameters)


def test_a_tag_is_referenced_with_a_colon_and_a_digest_with_an_at_sign() -> None:
    assert image_reference(REPOSITORY, "1.4.2") == f"{REPOSITORY}:1.4.2"
    assert image_reference(REPOSITORY, DIGEST) == f"{REPOSITORY}@{DIGEST}"
    assert is_digest(DIGEST)
    assert not is_digest("sha256-looking-tag")
    assert registry_host(REPOSITORY) == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    with pytest.raises(ValueError, match="not a registry"):
        image_reference("", "1.0.0")


def test_the_lifecycle_keeps_the_last_releases_and_never_touches_untagged_images() -> None:
    (rule,) = json.loads(lifecycle_policy())["rules"]
    assert rule["selection"] == {
        "tagStatus": "tagged",
        "tagPatternList": ["*"],
        "countType": "imageCountMoreThan",
        "countNumber": IMAGES_KEPT,
    }
    assert rule["action"] == {"type": "expire"}
    assert IMAGES_KEPT >= 10, "rollback needs history"
    with pytest.raises(ValueError, match="at least one"):
        lifecycle_policy(0)


def test_burstable_types_track_a_lower_cpu_target() -> None:
    assert is_burstable("t4g.large")
    assert is_burstable("t3a.medium")
    assert not is_burstable("c7g.xlarge")
    assert not is_burstable("m7g.xlarge")
    assert cpu_target_percent("t4g.large") == BURSTABLE_CPU_TARGET_PERCENT < CPU_TARGET_PERCENT
    assert cpu_target_percent("c7g.xlarge") == CPU_TARGET_PERCENT
    assert 30 <= BURSTABLE_CPU_TARGET_PERCENT < CPU_TARGET_PERCENT <= 70


def test_the_request_target_grows_with_the_instance() -> None:
    assert requests_per_target_per_minute(4) == 2 * requests_per_target_per_minute(2)
    # The measured throughput at the 50% CPU target (704 requests/s per vCPU), summed over a minute.
    assert requests_per_target_per_minute(2) == 2 * 704 * 60
    with pytest.raises(ValueError, match="vCPUs"):
        requests_per_target_per_minute(0)


def test_rolling_deploys_keep_at_least_ninety_percent_healthy_and_end_at_a_full_checkpoint() -> None:
    assert REFRESH_MIN_HEALTHY_PERCENT >= 90
    assert 100 <= REFRESH_MAX_HEALTHY_PERCENT <= 200
    assert REFRESH_MAX_HEALTHY_PERCENT - REFRESH_MIN_HEALTHY_PERCENT <= 100  # AWS's limit
    assert list(REFRESH_CHECKPOINTS) == sorted(set(REFRESH_CHECKPOINTS))
    assert REFRESH_CHECKPOINTS[-1] == 100


def test_fleet_size_must_be_ordered() -> None:
    assert FleetSize(2, 2, 4).max_size == 4
    with pytest.raises(ValueError, match="min 3 <= desired 2"):
        FleetSize(3, 2, 4)


def test_health_check_timing_is_consistent() -> None:
    assert timing.HEALTH_CHECK_TIMEOUT_SECONDS < timing.HEALTH_CHECK_INTERVAL_SECONDS
    # A booting instance is healthy before the group starts counting ELB failures against it.
    time_to_healthy = timing.BOOT_SECONDS_ESTIMATE + timing.HEALTHY_THRESHOLD * timing.HEALTH_CHECK_INTERVAL_SECONDS
    assert time_to_healthy < timing.HEALTH_CHECK_GRACE_PERIOD_SECONDS
    # Draining finishes before docker stops the container; the container's grace covers gunicorn's (30 s).
    assert timing.DEREGISTRATION_DELAY_SECONDS <= 60
    assert timing.STOP_TIMEOUT_SECONDS > 30
    assert 30 <= timing.SLOW_START_SECONDS <= 900
    # gunicorn's keep-alive (75 s) outlives the ALB's idle timeout.
    assert timing.ALB_IDLE_TIMEOUT_SECONDS < 75


GRANTS = InstanceGrants(
    repository_arn="arn:aws:ecr:us-east-1:123456789012:repository/contentry-prod/api",
    app_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:contentry-prod-app-AbCdEf",
    files_bucket_arn="arn:aws:s3:::contentry-prod-uploads",
    log_group_arn="arn:aws:logs:us-east-1:123456789012:log-group:/contentry-prod/api",
)


def statements() -> list[dict]:
    return json.loads(instance_policy_document(GRANTS))["Statement"]


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_instance_policy_allows_star_only_where_aws_has_no_resource_scope() -> None:
    for statement in statements():
        assert statement["Effect"] == "Allow"
        actions = as_list(statement["Action"])
        assert not any(action == "*" or action.endswith(":*") for action in actions), statement["Sid"]
        if "*" in as_list(statement["Resource"]):
            assert set(actions) <= ACTIONS_WITHOUT_RESOURCE_SCOPE, statement["Sid"]


def test_instance_policy_reads_only_the_app_secret_and_uses_only_the_files_bucket() -> None:
    by_action = {action: statement for statement in statements() for action in as_list(statement["Action"])}
    assert by_action["secretsmanager:GetSecretValue"]["Resource"] == GRANTS.app_secret_arn
    assert by_action["s3:ListBucket"]["Resource"] == GRANTS.files_bucket_arn
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert by_action[action]["Resource"] == f"{GRANTS.files_bucket_arn}/*"
    assert by_action["ecr:BatchGetImage"]["Resource"] == GRANTS.repository_arn
    assert set(as_list(by_action["logs:PutLogEvents"]["Resource"])) == {
        GRANTS.log_group_arn,
        f"{GRANTS.log_group_arn}:*",
    }
    assert by_action["cloudwatch:PutMetricData"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": "CWAgent"}}
    assert "ssm:UpdateInstanceInformation" in by_action  # Session Manager instead of SSH
    assert not any(action.startswith(("iam:", "kms:", "ec2:Run", "s3:PutBucket")) for action in by_action)


def test_only_ec2_may_assume_the_instance_role() -> None:
    (statement,) = json.loads(ec2_assume_role_policy())["Statement"]
    assert statement["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"


def test_alb_log_bucket_accepts_only_elb_log_delivery_over_tls() -> None:
    policy = json.loads(
        alb_log_bucket_policy(
            bucket_arn="arn:aws:s3:::logs",
            account_id="123456789012",
            elb_account_arn="arn:aws:iam::127311923021:root",
        )
    )
    deny, *allows = policy["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert {json.dumps(a["Principal"], sort_keys=True) for a in allows} == {
        json.dumps({"AWS": "arn:aws:iam::127311923021:root"}),
        json.dumps({"Service": ELB_LOG_DELIVERY_SERVICE}),
    }
    for allow in allows:
        assert allow["Action"] == "s3:PutObject"
        assert allow["Resource"] == f"arn:aws:s3:::logs/{ACCESS_LOG_PREFIX}/AWSLogs/123456789012/*"


def test_outside_the_legacy_regions_only_the_log_delivery_service_may_write() -> None:
    policy = json.loads(
        alb_log_bucket_policy(bucket_arn="arn:aws:s3:::logs", account_id="123456789012", elb_account_arn=None)
    )
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert [a["Principal"] for a in allows] == [{"Service": ELB_LOG_DELIVERY_SERVICE}]
    assert not any("AWS" in statement["Principal"] for statement in policy["Statement"]), "no account principal"


@pytest.mark.parametrize(
    ("region", "legacy"),
    [
        ("us-east-1", True),
        ("eu-west-1", True),
        ("ap-southeast-3", True),  # Jakarta (December 2021): still an ELB account
        ("eu-central-2", False),  # Zurich, November 2022
        ("eu-south-2", False),
        ("ap-south-2", False),
        ("ap-southeast-4", False),
        ("me-central-1", False),
        ("il-central-1", False),
        ("ca-west-1", False),
        ("mx-central-1", False),
    ],
)
def test_only_regions_older_than_august_2022_deliver_logs_as_an_elb_account(region: str, legacy: bool) -> None:
    assert uses_legacy_elb_account(region) is legacy


def test_every_legacy_log_region_is_a_region_elastic_load_balancing_knows() -> None:
    """A misspelt region in the list would silently fall back to the service principal alone."""
    session = botocore.session.get_session()
    known = {
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("elbv2", partition_name=partition)
    }
    assert known >= LEGACY_ELB_ACCOUNT_REGIONS, sorted(LEGACY_ELB_ACCOUNT_REGIONS - known)


def cache_settings(url: str) -> CacheSettings:
    return CacheSettings.model_validate(
        {"mode": "external", "node_type": "cache.t4g.small", "replicas": 0, "external_url": url}
    )


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("rediss://default:offline-placeholder@redis.example.com:6380", 6380),
        ("rediss://:pw@redis.example.com", 6379),  # no port: what Redis clients use, with TLS too
        ("redis://redis.example.com:12000/0", 12000),
        ("", None),
    ],
)
def test_the_external_redis_port_is_read_from_the_url(url: str, port: int | None) -> None:
    assert cache_settings(url).external_port == port


@pytest.mark.parametrize("port_text", ["0", "70000", "abc"])
def test_an_external_redis_url_with_a_bad_port_is_refused_without_echoing_it(port_text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        cache_settings(f"rediss://default:hunter2@redis.example.com:{port_text}")
    (error,) = caught.value.errors()
    assert "port is not a number from 1 to 65535" in error["msg"]
    assert "hunter2" not in error["msg"]
