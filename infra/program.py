"""The Pulumi program: one stack's whole environment, built from its validated config.

`main` is what `pulumi up` runs (through `__main__.py`) and what the offline plan runs under the mock engine;
`allow_placeholders` is the only difference, and it is the plan's alone.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.components.network import Network, NetworkArgs
from infra.config import StackConfig, load_stack_config
from infra.planning.tags import default_tags


def main(*, allow_placeholders: bool = False) -> None:
    # Validation raises before the first resource is registered: a bad config never half-applies.
    config = load_stack_config(allow_placeholders=allow_placeholders)
    build(config)


def build(config: StackConfig) -> None:
    name_prefix = f"{config.project}-{config.stack}"
    # One explicit provider: its default tags reach every taggable AWS resource, and no resource can silently
    # fall back to an untagged default provider (the tests check every AWS resource uses this one).
    aws_provider = aws.Provider(
        "aws",
        region=config.region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(config)),
    )
    with_aws = pulumi.ResourceOptions(providers=[aws_provider])

    network = Network(
        "network",
        NetworkArgs(
            name_prefix=name_prefix,
            region=config.region,
            vpc_cidr=config.network.vpc_cidr,
            az_count=config.network.az_count,
            nat_strategy=config.network.nat_strategy,
            flow_log_retention_days=config.network.flow_log_retention_days,
        ),
        opts=with_aws,
    )

    pulumi.export("tier", config.tier.value)
    pulumi.export("environment", config.environment.value)
    pulumi.export("region", config.region)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("availabilityZones", network.availability_zones)
    pulumi.export("publicSubnetIds", network.public_subnet_ids)
    pulumi.export("privateSubnetIds", network.private_subnet_ids)
    pulumi.export("isolatedSubnetIds", network.isolated_subnet_ids)
