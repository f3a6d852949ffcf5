"""The AWS region -> Atlas region mapping, against the AWS regions Atlas serves, and through the plan."""

from __future__ import annotations

from unittest.mock import patch

import pulumi
import pytest

from infra.config.model import aws_regions
from infra.plan.document import build_plan
from infra.planning.data.atlas_regions import ATLAS_AWS_REGIONS, UnsupportedAtlasRegionError, atlas_region_name
from tests.infra.data.data_support import only
from tests.infra.plans import REPO_ROOT, plan_of

CLUSTER = "mongodbatlas:index/advancedCluster:AdvancedCluster"


@pytest.mark.parametrize(
    ("aws_region", "atlas_region"),
    [
        ("us-east-1", "US_EAST_1"),
        ("us-west-2", "US_WEST_2"),
        ("eu-west-1", "EU_WEST_1"),
        ("eu-central-1", "EU_CENTRAL_1"),
        ("ap-southeast-2", "AP_SOUTHEAST_2"),
        ("ap-northeast-1", "AP_NORTHEAST_1"),
        ("sa-east-1", "SA_EAST_1"),
        ("ca-west-1", "CA_WEST_1"),
        ("il-central-1", "IL_CENTRAL_1"),
    ],
)
def test_known_regions_map_to_atlas_names(aws_region: str, atlas_region: str) -> None:
    assert atlas_region_name(aws_region) == atlas_region


def test_every_supported_region_is_a_real_aws_region() -> None:
    assert len(ATLAS_AWS_REGIONS) >= 30, "Atlas serves over 30 AWS regions; the list looks truncated"
    assert aws_regions() >= ATLAS_AWS_REGIONS, sorted(ATLAS_AWS_REGIONS - aws_regions())


def test_atlas_names_are_unique_upper_snake_case() -> None:
    names = {atlas_region_name(region) for region in ATLAS_AWS_REGIONS}
    assert len(names) == len(ATLAS_AWS_REGIONS)
    assert all(name.replace("_", "").isalnum() and name.isupper() for name in names)


@pytest.mark.parametrize("region", ["us-gov-west-1", "cn-north-1", "us-iso-east-1", "eu-isoe-west-1", "mars-1"])
def test_regions_atlas_does_not_serve_fail_naming_the_allowed_ones(region: str) -> None:
    with pytest.raises(UnsupportedAtlasRegionError) as error:
        atlas_region_name(region)
    message = str(error.value)
    assert region in message
    assert "us-east-1" in message
    assert "eu-west-1" in message


@pytest.mark.parametrize(
    ("aws_region", "atlas_region"), [("eu-west-1", "EU_WEST_1"), ("ap-southeast-2", "AP_SOUTHEAST_2")]
)
def test_the_cluster_and_peering_follow_the_stack_region(aws_region: str, atlas_region: str) -> None:
    plan = plan_of("prod", (f"aws:region={aws_region}",))
    (region_config,) = only(plan, CLUSTER)["inputs"]["replicationSpecs"][0]["regionConfigs"]
    assert region_config["regionName"] == atlas_region
    assert region_config["providerName"] == "AWS"
    container = only(plan, "mongodbatlas:index/networkContainer:NetworkContainer")
    assert container["inputs"]["regionName"] == atlas_region
    peering = only(plan, "mongodbatlas:index/networkPeering:NetworkPeering")
    assert peering["inputs"]["accepterRegionName"] == aws_region


def test_a_region_without_atlas_stops_the_plan_with_the_allowed_list() -> None:
    # Today every commercial region botocore knows has Atlas; a new AWS region would pass config validation
    # first. Stand one in, and the program must stop with a RunError (a clean message, no traceback).
    future = aws_regions() | {"ap-future-9"}
    refused = pytest.raises(pulumi.RunError, match="'ap-future-9' has no MongoDB Atlas region")
    with patch("infra.config.model.aws_regions", return_value=future), refused as error:
        build_plan("dev", ("aws:region=ap-future-9",), REPO_ROOT)
    assert "us-east-1" in str(error.value)
