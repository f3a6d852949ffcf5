"""The stack config model: presets, overrides, and a table of malformed configs, each refused by key."""

from __future__ import annotations

import json
from decimal import Decimal

import pulumi
import pytest
from pulumi.runtime import config as runtime_config

from infra.config import CacheMode, InvalidStackConfig, NatStrategy, Tier
from infra.config.loader import RawConfig, read_pulumi_config, resolve
from infra.config.model import ec2_instance_types

VALID_DEV = {
    "aws:region": "us-east-1",
    "contentry:tier": "C",
    "contentry:atlasOrgId": "5f1e2d3c4b5a69788796a5b4",
    "contentry:alertEmail": "ops@contentry.ai",
    "contentry:appImageTag": "1.4.2",
}
VALID_PROD = {
    **VALID_DEV,
    "contentry:tier": "A",
    "contentry:environment": "production",
    "contentry:domain": "api.contentry.ai",
    "contentry:hostedZoneId": "Z0123456789ABCDEFGHIJ",
    "contentry:computeAmiId": "ami-0abcdef1234567890",
}


def raw(values: dict[str, str], stack: str = "dev", secret_keys: frozenset[str] = frozenset()) -> RawConfig:
    return RawConfig(project="contentry", stack=stack, values=values, secret_keys=secret_keys)


@pytest.mark.parametrize("tier", [Tier.A, Tier.B])
def test_tiers_a_and_b_are_production_ready_as_preset(tier: Tier) -> None:
    config = resolve(raw({**VALID_PROD, "contentry:tier": tier.value}, "prod"))
    assert config.tier is tier
    assert config.network.az_count >= 3
    assert config.network.nat_strategy is NatStrategy.ONE_PER_AZ


def test_tier_c_in_production_must_first_remove_its_single_points_of_failure() -> None:
    budget_prod = {**VALID_PROD, "contentry:tier": "C"}
    with pytest.raises(InvalidStackConfig) as caught:
        resolve(raw(budget_prod, "prod"))
    assert {p.key for p in caught.value.problems} == {
        "contentry:azCount",
        "contentry:natStrategy",
        "contentry:cacheReplicas",
        "contentry:workerMinSize",  # tier C's one worker instance
    }
    fixed = {
        **budget_prod,
        "contentry:azCount": "3",
        "contentry:natStrategy": "one-per-az",
        "contentry:cacheReplicas": "1",
        "contentry:workerMinSize": "2",
    }
    assert resolve(raw(fixed, "prod")).tier is Tier.C


@pytest.mark.parametrize("tier", list(Tier))
def test_every_tier_preset_is_valid_in_development(tier: Tier) -> None:
    config = resolve(raw({**VALID_DEV, "contentry:tier": tier.value}))
    assert config.compute.min_size <= config.compute.desired_size <= config.compute.max_size
    assert config.database.node_count == 3  # every dedicated Atlas cluster is a 3-node replica set


def test_tier_presets_differ_where_the_architecture_says() -> None:
    a = resolve(raw({**VALID_PROD, "contentry:tier": "A"}, "prod"))
    b = resolve(raw({**VALID_PROD, "contentry:tier": "B"}, "prod"))
    c = resolve(raw({**VALID_DEV, "contentry:tier": "C"}))
    assert (a.database.instance_size, b.database.instance_size, c.database.instance_size) == (
        "M30",
        "M30",
        "M10",
    )
    # From the sizing (infra/capacity/sizing.py): the peak at 70% CPU, any one AZ lost, one instance per AZ at least.
    assert (a.compute.min_size, a.compute.max_size) == (9, 27)
    assert (c.compute.min_size, c.compute.max_size) == (2, 6)
    assert b.compute.desired_size == 3
    assert a.cache.replicas == 1
    assert c.cache.replicas == 0
    assert a.files.cdn_enabled
    assert c.files.cdn_enabled, "at tier C's traffic CloudFront costs less than S3's egress"
    assert c.network.nat_strategy is NatStrategy.INSTANCE
    assert c.monthly_budget_usd == Decimal("1930")
    assert a.platform.value == "ec2"
    assert b.platform.value == "eks"


def test_a_stack_value_overrides_the_preset() -> None:
    config = resolve(raw({**VALID_DEV, "contentry:computeInstanceType": "m7g.large", "contentry:computeMaxSize": "8"}))
    assert config.compute.instance_type == "m7g.large"
    assert config.compute.max_size == 8
    assert config.compute.min_size == 2  # untouched keys keep the preset


def test_empty_value_means_the_preset() -> None:
    """Pulumi.yaml declares preset keys with the default "": the CLI passes it, the program reads "preset"."""
    config = resolve(raw({**VALID_DEV, "contentry:azCount": "", "contentry:natStrategy": ""}))
    assert config.network.az_count == 2
    assert config.network.nat_strategy is NatStrategy.INSTANCE


def test_external_cache_with_a_secret_url() -> None:
    values = {
        **VALID_DEV,
        "contentry:cacheMode": "external",
        "contentry:externalRedisUrl": "rediss://:pw@r.example.com:6380",
    }
    config = resolve(raw(values, secret_keys=frozenset({"contentry:externalRedisUrl"})))
    assert config.cache.mode is CacheMode.EXTERNAL
    assert "pw" not in repr(config)  # a SecretStr: never in a repr, a log line or a traceback


def test_graviton_detection() -> None:
    config = resolve(raw(VALID_PROD, "prod"))
    assert config.compute.is_graviton  # c7g.medium
    x86 = resolve(raw({**VALID_PROD, "contentry:computeInstanceType": "c6i.large"}, "prod"))
    assert not x86.compute.is_graviton


def test_instance_types_come_from_botocore() -> None:
    types = ec2_instance_types()
    assert len(types) > 500
    assert {"c7g.xlarge", "t4g.large", "m7g.xlarge", "c6i.xlarge"} <= types


# (case id, stack, values to merge over the valid base, the key the error must name, a phrase it must contain)
MALFORMED = [
    ("unknown-tier", "dev", {"contentry:tier": "D"}, "contentry:tier", "allowed: A, B, C"),
    ("lowercase-tier", "dev", {"contentry:tier": "a"}, "contentry:tier", "allowed: A, B, C"),
    (
        "unknown-key-typo",
        "dev",
        {"contentry:computeMaxSiz": "4"},
        "contentry:computeMaxSiz",
        "did you mean computeMaxSize",
    ),
    ("unknown-key", "dev", {"contentry:replicaCount": "2"}, "contentry:replicaCount", "known keys"),
    (
        "int-not-a-number",
        "dev",
        {"contentry:computeMinSize": "two"},
        "contentry:computeMinSize",
        "whole number",
    ),
    ("int-a-float", "dev", {"contentry:azCount": "2.5"}, "contentry:azCount", "whole number"),
    ("bool-not-a-bool", "dev", {"contentry:cdnEnabled": "maybe"}, "contentry:cdnEnabled", "true or false"),
    (
        "min-greater-than-max",
        "dev",
        {"contentry:computeMinSize": "5", "contentry:computeMaxSize": "3"},
        "contentry:computeMinSize",
        "computeMinSize <= computeDesiredSize <= computeMaxSize",
    ),
    (
        "desired-above-max",
        "dev",
        {"contentry:computeDesiredSize": "9"},
        "contentry:computeMinSize",
        "desired 9",
    ),
    (
        "fake-instance-type",
        "dev",
        {"contentry:computeInstanceType": "c7g.mega"},
        "contentry:computeInstanceType",
        "not an EC2 instance type",
    ),
    (
        "instance-type-typo",
        "dev",
        {"contentry:computeInstanceType": "t4g-large"},
        "contentry:computeInstanceType",
        "not an EC2 instance type",
    ),
    ("one-az", "dev", {"contentry:azCount": "1"}, "contentry:azCount", "greater than or equal to 2"),
    ("too-many-azs", "dev", {"contentry:azCount": "7"}, "contentry:azCount", "less than or equal to 6"),
    ("unknown-nat-strategy", "dev", {"contentry:natStrategy": "none"}, "contentry:natStrategy", "one-per-az"),
    ("prod-two-azs", "prod", {"contentry:azCount": "2"}, "contentry:azCount", "no single point of failure"),
    (
        "prod-single-nat",
        "prod",
        {"contentry:natStrategy": "single"},
        "contentry:natStrategy",
        "use one-per-az",
    ),
    ("prod-without-https", "prod", {"contentry:domain": ""}, "contentry:domain", "requires HTTPS"),
    (
        "prod-one-instance",
        "prod",
        {"contentry:computeMinSize": "1", "contentry:computeDesiredSize": "1"},
        "contentry:computeMinSize",
        "2 or more",
    ),
    (
        "prod-no-cache-replica",
        "prod",
        {"contentry:cacheReplicas": "0"},
        "contentry:cacheReplicas",
        "automatic failover",
    ),
    ("atlas-one-node", "dev", {"contentry:atlasNodeCount": "1"}, "contentry:atlasNodeCount", "3, 5 or 7"),
    ("atlas-shared-tier", "dev", {"contentry:atlasInstanceSize": "M0"}, "contentry:atlasInstanceSize", "M10"),
    ("atlas-org-id", "dev", {"contentry:atlasOrgId": "my-org"}, "contentry:atlasOrgId", "24 lowercase hex"),
    ("mongo-version", "dev", {"contentry:mongoVersion": "4.4"}, "contentry:mongoVersion", "'7.0' or '8.0'"),
    ("public-vpc-cidr", "dev", {"contentry:vpcCidr": "8.8.0.0/16"}, "contentry:vpcCidr", "not a private"),
    ("vpc-cidr-overlaps-atlas", "dev", {"contentry:vpcCidr": "192.168.0.0/16"}, "contentry:vpcCidr", "Atlas"),
    ("vpc-cidr-too-small", "dev", {"contentry:vpcCidr": "10.0.0.0/24"}, "contentry:vpcCidr", "/16 to /21"),
    ("vpc-cidr-garbage", "dev", {"contentry:vpcCidr": "10.0.0.0/33"}, "contentry:vpcCidr", "IPv4 network"),
    ("bad-region", "dev", {"aws:region": "us-east-9"}, "aws:region", "not an AWS region"),
    (
        "bad-retention",
        "dev",
        {"contentry:logRetentionDays": "10"},
        "contentry:logRetentionDays",
        "365",
    ),
    (
        "bad-cache-node-type",
        "dev",
        {"contentry:cacheNodeType": "t4g.medium"},
        "contentry:cacheNodeType",
        "cache.",
    ),
    (
        "unknown-cache-engine",
        "dev",
        {"contentry:cacheEngine": "memcached"},
        "contentry:cacheEngine",
        "valkey",
    ),
    (
        "external-cache-without-url",
        "dev",
        {"contentry:cacheMode": "external"},
        "contentry:externalRedisUrl",
        "--secret externalRedisUrl",
    ),
    (
        "bad-email",
        "dev",
        {"contentry:alertEmail": "ops at contentry"},
        "contentry:alertEmail",
        "email address",
    ),
    (
        "bad-domain",
        "prod",
        {"contentry:domain": "https://api.contentry.ai/"},
        "contentry:domain",
        "not a host name",
    ),
    (
        "budget-negative",
        "dev",
        {"contentry:monthlyBudgetUsd": "-5"},
        "contentry:monthlyBudgetUsd",
        "greater than 0",
    ),
    (
        "unknown-environment",
        "dev",
        {"contentry:environment": "staging"},
        "contentry:environment",
        "production",
    ),
    ("image-latest", "dev", {"contentry:appImageTag": "latest"}, "contentry:appImageTag", "immutable"),
    (
        "image-with-registry",
        "dev",
        {"contentry:appImageTag": "repo/app:1.0"},
        "contentry:appImageTag",
        "sha256 digest",
    ),
    ("image-short-digest", "dev", {"contentry:appImageTag": "sha256:abc"}, "contentry:appImageTag", "digest"),
    ("root-volume-tiny", "dev", {"contentry:computeRootVolumeGb": "8"}, "contentry:computeRootVolumeGb", "20"),
    (
        "domain-without-zone",
        "prod",
        {"contentry:hostedZoneId": None},
        "contentry:hostedZoneId",
        "pulumi config set hostedZoneId",
    ),
    ("zone-without-domain", "dev", {"contentry:hostedZoneId": "Z123ABC"}, "contentry:hostedZoneId", "set domain"),
    ("zone-id-garbage", "prod", {"contentry:hostedZoneId": "example.com"}, "contentry:hostedZoneId", "hosted zone"),
    (
        "atlas-bounds-inverted",
        "dev",
        {"contentry:atlasMaxInstanceSize": "M10", "contentry:atlasInstanceSize": "M20"},
        "contentry:atlasMinInstanceSize",
        "atlasMinInstanceSize <= atlasInstanceSize <= atlasMaxInstanceSize",
    ),
    ("cdn-price-class", "dev", {"contentry:cdnPriceClass": "PriceClass_50"}, "contentry:cdnPriceClass", "100"),
    (
        "external-redis-price-negative",
        "dev",
        {"contentry:externalRedisMonthlyUsd": "-1"},
        "contentry:externalRedisMonthlyUsd",
        "greater than or equal to 0",
    ),
    ("missing-image", "dev", {"contentry:appImageTag": None}, "contentry:appImageTag", "appImageTag"),
    (
        "jwt-key-generation-zero",
        "dev",
        {"contentry:jwtKeyGeneration": "0"},
        "contentry:jwtKeyGeneration",
        "a whole number from 1 to 1000000; raise it by one to rotate",
    ),
    (
        "jwt-key-generation-text",
        "dev",
        {"contentry:jwtKeyGeneration": "two"},
        "contentry:jwtKeyGeneration",
        "whole number",
    ),
    (
        "missing-required",
        "dev",
        {"contentry:alertEmail": None},
        "contentry:alertEmail",
        "pulumi config set alertEmail",
    ),
]


@pytest.mark.parametrize(
    ("stack", "changes", "key", "phrase"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_config_is_refused_naming_its_key(
    stack: str, changes: dict[str, str | None], key: str, phrase: str
) -> None:
    values = {**(VALID_PROD if stack == "prod" else VALID_DEV)}
    for name, value in changes.items():
        if value is None:
            values.pop(name)
        else:
            values[name] = value
    with pytest.raises(InvalidStackConfig) as caught:
        resolve(raw(values, stack))
    error = caught.value
    assert isinstance(error, pulumi.RunError)  # reported by the CLI without a traceback
    lines = [line for line in str(error).splitlines() if line.startswith(f"  - {key}: ")]
    assert lines, f"no problem names {key}:\n{error}"
    assert any(phrase in line for line in lines), f"{key}'s message lacks {phrase!r}:\n{error}"


def test_the_table_is_big_enough() -> None:
    assert len(MALFORMED) >= 20


def test_every_problem_is_reported_at_once() -> None:
    values = {
        **VALID_PROD,
        "contentry:tier": "A",
        "contentry:computeMinSize": "x",
        "contentry:bogus": "1",
        "contentry:azCount": "2",
        "contentry:computeInstanceType": "nope.large",
        "contentry:atlasOrgId": "bad",
    }
    with pytest.raises(InvalidStackConfig) as caught:
        resolve(raw(values, "prod"))
    keys = {problem.key for problem in caught.value.problems}
    assert keys == {
        "contentry:computeMinSize",
        "contentry:bogus",
        "contentry:azCount",  # a cross-key (production) rule, still checked despite the type errors
        "contentry:computeInstanceType",
        "contentry:atlasOrgId",
    }


def test_placeholders_are_refused_outside_the_offline_plan() -> None:
    values = {
        **VALID_PROD,
        "contentry:atlasOrgId": "<your Atlas organization id>",
        "contentry:domain": "<host>",
    }
    with pytest.raises(InvalidStackConfig) as caught:
        resolve(raw(values, "prod"))
    message = str(caught.value)
    assert "pulumi config set atlasOrgId <value> --stack prod" in message
    assert "pulumi config set domain <value> --stack prod" in message


def test_placeholders_are_accepted_by_the_offline_plan_with_stand_ins() -> None:
    values = {
        **VALID_PROD,
        "contentry:atlasOrgId": "<your Atlas organization id>",
        "contentry:domain": "<host>",
    }
    config = resolve(raw(values, "prod"), allow_placeholders=True)
    assert config.domain == "api.example.com"
    assert config.database.atlas_org_id == "5f0000000000000000000000"


def test_a_credential_in_plain_text_is_refused_without_echoing_it() -> None:
    values = {
        **VALID_DEV,
        "contentry:cacheMode": "external",
        "contentry:externalRedisUrl": "redis://:hunter2@host:6379",
    }
    with pytest.raises(InvalidStackConfig) as caught:
        resolve(raw(values))  # not in secret_keys: set without --secret
    assert "pulumi config set --secret externalRedisUrl" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_an_invalid_secret_is_not_echoed() -> None:
    values = {
        **VALID_DEV,
        "contentry:cacheMode": "external",
        "contentry:externalRedisUrl": "http://:hunter2@host",
    }
    with pytest.raises(InvalidStackConfig) as caught:
        resolve(raw(values, secret_keys=frozenset({"contentry:externalRedisUrl"})))
    assert "redis:// or rediss://" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_production_redis_must_use_tls() -> None:
    values = {
        **VALID_PROD,
        "contentry:cacheMode": "external",
        "contentry:externalRedisUrl": "redis://:pw@host:6379",
    }
    with pytest.raises(InvalidStackConfig, match="rediss://"):
        resolve(raw(values, "prod", frozenset({"contentry:externalRedisUrl"})))


def test_provider_keys_of_other_namespaces_are_not_ours_to_refuse() -> None:
    config = resolve(raw({**VALID_DEV, "aws:profile": "contentry", "mongodbatlas:publicKey": "abc"}))
    assert config.region == "us-east-1"


def test_secret_keys_passed_through_the_environment_count_as_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The language host may pass config and its secret keys as PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS."""
    values = {**VALID_DEV, "contentry:cacheMode": "external", "contentry:externalRedisUrl": "rediss://:pw@h:6380"}
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(values))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["contentry:externalRedisUrl"]))
    token = runtime_config.CONFIG.set({})
    try:
        raw_config = read_pulumi_config()
    finally:
        runtime_config.CONFIG.reset(token)
    assert raw_config.secret_keys == {"contentry:externalRedisUrl"}
    assert resolve(raw_config).cache.mode is CacheMode.EXTERNAL


def test_production_pins_its_ami_and_is_told_how() -> None:
    with pytest.raises(InvalidStackConfig) as caught:
        resolve(raw({**VALID_PROD, "aws:region": "eu-west-1", "contentry:computeAmiId": "latest"}, "prod"))
    (problem,) = caught.value.problems
    assert problem.key == "contentry:computeAmiId"
    assert (
        "aws ssm get-parameter --region eu-west-1 --name "
        "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64" in problem.message
    )
    assert "pulumi config set computeAmiId ami-" in problem.message
    x86 = {**VALID_PROD, "contentry:computeInstanceType": "c6i.xlarge", "contentry:computeAmiId": "latest"}
    with pytest.raises(InvalidStackConfig, match="al2023-ami-kernel-default-x86_64"):
        resolve(raw(x86, "prod"))
    pinned = resolve(raw({**VALID_PROD, "contentry:computeAmiId": "ami-0abcdef1234567890"}, "prod"))
    assert pinned.compute.pinned_ami == "ami-0abcdef1234567890"


def test_development_may_follow_the_latest_release() -> None:
    assert resolve(raw(VALID_DEV)).compute.pinned_ami is None


@pytest.mark.parametrize("value", ["ami-123", "ami-0ABCDEF1234567890", "al2023", "Latest"])
def test_an_ami_that_is_neither_an_id_nor_latest_is_refused(value: str) -> None:
    with pytest.raises(InvalidStackConfig, match="contentry:computeAmiId"):
        resolve(raw({**VALID_DEV, "contentry:computeAmiId": value}))
