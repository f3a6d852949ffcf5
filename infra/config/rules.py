"""Rules that span several keys: what a production stack must have, and sizes that must agree."""

from __future__ import annotations

from infra.capacity.ec2_fleet import (
    DEPLOY_MAX_HEALTHY_PERCENT,
    UnknownVcpusError,
    ec2_fleet_budget,
    largest_fitting_fleet,
)
from infra.capacity.mongo_connections import ConnectionBudgetError
from infra.config.errors import ConfigProblem
from infra.config.keys import PROJECT_NAMESPACE
from infra.config.model import (
    AL2023_AMI_PARAMETER_PREFIX,
    CacheMode,
    ComputePlatform,
    NatStrategy,
    StackConfig,
    atlas_size_rank,
)
from infra.planning.data.atlas_sizing import ATLAS_CIDR


def _key(name: str) -> str:
    return f"{PROJECT_NAMESPACE}:{name}"


def cross_field_problems(config: StackConfig) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    compute = config.compute
    if not compute.min_size <= compute.desired_size <= compute.max_size:
        problems.append(
            ConfigProblem(
                _key("computeMinSize"),
                f"min {compute.min_size}, desired {compute.desired_size}, max {compute.max_size}: "
                "computeMinSize <= computeDesiredSize <= computeMaxSize is required",
            )
        )
    database = config.database
    ranks = [
        atlas_size_rank(size)
        for size in (database.min_instance_size, database.instance_size, database.max_instance_size)
    ]
    if not ranks[0] <= ranks[1] <= ranks[2]:
        problems.append(
            ConfigProblem(
                _key("atlasMinInstanceSize"),
                f"min {database.min_instance_size}, size {database.instance_size}, max {database.max_instance_size}:"
                " atlasMinInstanceSize <= atlasInstanceSize <= atlasMaxInstanceSize is required",
            )
        )
    if config.network.vpc_cidr.overlaps(ATLAS_CIDR):
        problems.append(
            ConfigProblem(
                _key("vpcCidr"),
                f"{config.network.vpc_cidr} overlaps {ATLAS_CIDR}, the range Atlas peers from: routes to the"
                " database would be ambiguous; pick a range in 10.0.0.0/8 or 172.16.0.0/12",
            )
        )
    if config.domain and not config.hosted_zone_id:
        problems.append(
            ConfigProblem(
                _key("hostedZoneId"),
                f"domain {config.domain} needs the Route 53 hosted zone that holds it, to validate its certificate:"
                " pulumi config set hostedZoneId Z...",
            )
        )
    if config.hosted_zone_id and not config.domain:
        problems.append(
            ConfigProblem(_key("hostedZoneId"), "is set without a domain, which would ignore it: set domain too")
        )
    cache = config.cache
    has_url = bool(cache.external_url.get_secret_value())
    if cache.mode is CacheMode.EXTERNAL and not has_url:
        problems.append(
            ConfigProblem(
                _key("externalRedisUrl"),
                "cacheMode is external, so a Redis URL is required: "
                "pulumi config set --secret externalRedisUrl rediss://...",
            )
        )
    if cache.mode is CacheMode.ELASTICACHE and has_url:
        problems.append(
            ConfigProblem(
                _key("externalRedisUrl"),
                "is set but cacheMode is elasticache, which would ignore it: remove it or set cacheMode external",
            )
        )
    if config.is_production:
        problems.extend(_production_problems(config))
    problems.extend(_connection_budget_problems(config))
    return problems


def _connection_budget_problems(config: StackConfig) -> list[ConfigProblem]:
    """The EC2 fleet at its largest must fit its share of the smallest Atlas tier it may run on (tier B's pods
    are budgeted by the EKS side with the same function, infra.capacity.mongo_connections)."""
    if config.platform is not ComputePlatform.EC2:
        return []
    compute, database = config.compute, config.database
    try:
        ec2_fleet_budget(
            instance_type=compute.instance_type,
            max_size=compute.max_size,
            atlas_min_tier=database.min_instance_size,
        )
    except UnknownVcpusError as error:
        return [ConfigProblem(_key("computeInstanceType"), str(error))]
    except ConnectionBudgetError as error:
        fitting = largest_fitting_fleet(instance_type=compute.instance_type, atlas_min_tier=database.min_instance_size)
        return [
            ConfigProblem(
                _key("atlasMinInstanceSize"),
                f"computeMaxSize {compute.max_size} x {compute.instance_type} (one worker per vCPU), at"
                f" {DEPLOY_MAX_HEALTHY_PERCENT}% during a deploy, on an Atlas cluster that may scale down to"
                f" {database.min_instance_size}: {error}. Lower computeMaxSize (at most {fitting} fits), pick a"
                " smaller computeInstanceType, or raise atlasMinInstanceSize",
            )
        ]
    return []


def _production_problems(config: StackConfig) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    why = "production allows no single point of failure"
    if config.network.az_count < 3:
        problems.append(ConfigProblem(_key("azCount"), f"{config.network.az_count} AZs: {why}; use 3 or more"))
    if config.network.nat_strategy is NatStrategy.SINGLE:
        problems.append(ConfigProblem(_key("natStrategy"), f"single: {why}; use one-per-az"))
    if not config.https_enabled:
        problems.append(
            ConfigProblem(
                _key("domain"),
                "production requires HTTPS, which needs a domain: pulumi config set domain api.example.com",
            )
        )
    if config.compute.min_size < 2:
        problems.append(ConfigProblem(_key("computeMinSize"), f"{config.compute.min_size}: {why}; use 2 or more"))
    if config.platform is ComputePlatform.EC2 and config.compute.pinned_ami is None:
        architecture = "arm64" if config.compute.is_graviton else "x86_64"
        problems.append(
            ConfigProblem(
                _key("computeAmiId"),
                "latest: production pins its AMI, so an Amazon Linux release replaces the fleet only when you choose,"
                " not on the next unrelated pulumi up. Print the current one and pin it: aws ssm get-parameter"
                f" --region {config.region} --name {AL2023_AMI_PARAMETER_PREFIX}{architecture} --query"
                " Parameter.Value --output text; then pulumi config set computeAmiId ami-...",
            )
        )
    cache = config.cache
    if cache.mode is CacheMode.ELASTICACHE and cache.replicas < 1:
        problems.append(ConfigProblem(_key("cacheReplicas"), f"0: {why}; use 1 or more (automatic failover)"))
    if cache.mode is CacheMode.EXTERNAL and cache.external_url.get_secret_value().startswith("redis://"):
        problems.append(
            ConfigProblem(_key("externalRedisUrl"), "production requires TLS to Redis: use a rediss:// URL")
        )
    return problems
