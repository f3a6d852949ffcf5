"""The stateful half of a stack, wired from its config: database, cache, files and the app's secret.

Built after the network and before compute, and independent of compute (the compute side adds its own
ingress rule into the cache's security group), so the dependency graph has no cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.data.app_secret import AppSecret, AppSecretArgs
from infra.components.data.cache import Cache, CacheArgs
from infra.components.data.database import Database, DatabaseArgs
from infra.components.data.files import Files, FilesArgs
from infra.components.network import Network
from infra.config import StackConfig
from infra.config.model import CacheMode
from infra.planning.tags import default_tags


@dataclass(frozen=True)
class DataTier:
    database: Database
    cache: Cache | None
    """None with cacheMode external: the Redis URL then comes from config (a secret)."""
    files: Files
    app_secret: AppSecret


def needs_certificate_provider(config: StackConfig) -> bool:
    """CloudFront serves `cdn.<domain>` only with an ACM certificate from us-east-1, and its web ACL (CLOUDFRONT
    scope) exists only there: any stack with a CDN needs a provider in us-east-1."""
    return config.files.cdn_enabled


def build_data_tier(
    config: StackConfig,
    network: Network,
    opts: pulumi.ResourceOptions,
    certificate_provider: aws.Provider | None = None,
    cdn_web_acl_arn: pulumi.Input[str] | None = None,
) -> DataTier:
    name_prefix = f"{config.project}-{config.stack}"
    database = Database(
        "database",
        DatabaseArgs(
            name_prefix=name_prefix,
            org_id=config.database.atlas_org_id,
            aws_region=config.region,
            vpc_id=network.vpc_id,
            vpc_cidr=config.network.vpc_cidr,
            app_route_table_ids=network.private_route_table_ids,
            instance_size=config.database.instance_size,
            min_instance_size=config.database.min_instance_size,
            max_instance_size=config.database.max_instance_size,
            node_count=config.database.node_count,
            mongo_version=config.database.mongo_version,
            is_production=config.is_production,
            alert_email=config.alert_email,
            tags=default_tags(config),
            connections_alert_percent=config.alarms.database_connections_percent,
        ),
        opts=opts,
    )

    cache: Cache | None = None
    if config.cache.mode is CacheMode.ELASTICACHE:
        cache = Cache(
            "cache",
            CacheArgs(
                name_prefix=name_prefix,
                vpc_id=network.vpc_id,
                subnet_ids=network.isolated_subnet_ids,
                engine=config.cache.engine,
                node_type=config.cache.node_type,
                replicas=config.cache.replicas,
                is_production=config.is_production,
            ),
            opts=opts,
        )
        redis_url = cache.redis_url
    else:
        redis_url = pulumi.Output.secret(config.cache.external_url.get_secret_value())

    files = Files(
        "files",
        FilesArgs(
            name_prefix=name_prefix,
            is_production=config.is_production,
            domain=config.domain,
            hosted_zone_id=config.hosted_zone_id,
            cdn_enabled=config.files.cdn_enabled,
            cdn_price_class=config.files.cdn_price_class,
            log_retention_days=config.log_retention_days,
            certificate_provider=certificate_provider,
            cors_origins=config.allowed_origins,
            cdn_web_acl_arn=cdn_web_acl_arn,
        ),
        opts=opts,
    )

    app_secret = AppSecret(
        "app-secret",
        AppSecretArgs(
            name_prefix=name_prefix,
            is_production=config.is_production,
            mongo_url=database.mongo_url,
            redis_url=redis_url,
            bucket_name=files.bucket_name,
            cdn_domain=files.cdn_domain,
            cors_origins=config.allowed_origins,
            cdn_signing_key_id=files.cdn_signing_key_id,
            cdn_signing_private_key=files.cdn_signing_private_key,
            jwt_key_generation=config.jwt_key_generation,
        ),
        opts=opts,
    )
    return DataTier(database=database, cache=cache, files=files, app_secret=app_secret)
