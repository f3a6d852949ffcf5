"""AWS region -> MongoDB Atlas region name, for the AWS regions Atlas deploys dedicated clusters to.

Atlas names its AWS regions by upper-casing the AWS code (us-east-1 -> US_EAST_1), but it does not run in
every AWS region (no GovCloud, China, ISO partitions or some new regions): a region outside this list must
fail before `pulumi up`, naming the regions that would work, not halfway through an Atlas API call.
Source: MongoDB's own region list (mongodb-js/mongodb-mcp-server `ATLAS_REGIONS.AWS`, mirroring
https://www.mongodb.com/docs/atlas/reference/amazon-aws/), read 2026-11-25.
"""

from __future__ import annotations

ATLAS_AWS_REGIONS: frozenset[str] = frozenset(
    {
        # North and South America
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "ca-west-1",
        "mx-central-1",
        "sa-east-1",
        # Europe
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        # Asia Pacific
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        # Middle East, Africa
        "me-south-1",
        "me-central-1",
        "il-central-1",
        "af-south-1",
    }
)


class UnsupportedAtlasRegionError(ValueError):
    """An AWS region where Atlas runs no clusters: the message lists the regions it does."""


def atlas_region_name(aws_region: str) -> str:
    """`us-east-1` -> `US_EAST_1`; a region Atlas does not serve raises, listing the ones it does."""
    if aws_region not in ATLAS_AWS_REGIONS:
        allowed = ", ".join(sorted(ATLAS_AWS_REGIONS))
        raise UnsupportedAtlasRegionError(
            f"aws:region {aws_region!r} has no MongoDB Atlas region; the cluster must live in the app's region"
            f" for private peering. Atlas serves: {allowed}"
        )
    return aws_region.upper().replace("-", "_")
