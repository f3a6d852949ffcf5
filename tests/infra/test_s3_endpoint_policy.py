"""The S3 gateway endpoint admits the stack's buckets, Amazon Linux's repositories and ECR's image layers, and
nothing else: the policy evaluated as S3 would, then through the plan of every stack."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

import pytest

from infra.plan.document import Plan
from infra.planning.s3_endpoint_policy import s3_endpoint_policy
from tests.infra.plans import STACKS, plan_of

UPLOADS = "arn:aws:s3:::contentry-prod-uploads-1a2b3c"


def allows(policy: dict[str, Any], action: str, resource: str) -> bool:
    """An endpoint policy's Allow statements (it has no Deny), matched as IAM matches wildcards."""

    def listed(value: str | list[str], wanted: str) -> bool:
        return any(fnmatchcase(wanted, pattern) for pattern in ([value] if isinstance(value, str) else value))

    return any(
        statement["Effect"] == "Allow"
        and listed(statement["Action"], action)
        and listed(statement["Resource"], resource)
        for statement in policy["Statement"]
    )


def policy(region: str = "eu-west-1") -> dict[str, Any]:
    return json.loads(s3_endpoint_policy(region=region, stack_bucket_arns=[UPLOADS]))


def test_the_app_uses_its_own_bucket_through_the_endpoint() -> None:
    document = policy()
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert allows(document, action, f"{UPLOADS}/uploads/user-1/photo.jpg"), action
    assert allows(document, "s3:ListBucket", UPLOADS)


def test_boot_reaches_the_amazon_linux_repositories_and_ecr_layers_of_its_region() -> None:
    document = policy("eu-west-1")
    assert allows(document, "s3:GetObject", "arn:aws:s3:::al2023-repos-eu-west-1-de612dc2/core/mirrors/list")
    assert allows(document, "s3:GetObject", "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/sha256/ab12")
    assert not allows(document, "s3:PutObject", "arn:aws:s3:::al2023-repos-eu-west-1-de612dc2/x")
    assert not allows(document, "s3:GetObject", "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/sha256/ab12")


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("s3:PutObject", "arn:aws:s3:::someone-elses-bucket/exfiltrated.tar"),
        ("s3:GetObject", "arn:aws:s3:::someone-elses-bucket/tool.sh"),
        ("s3:PutBucketPolicy", UPLOADS),
        ("s3:PutBucketAcl", UPLOADS),
        ("s3:DeleteBucket", UPLOADS),
    ],
)
def test_any_other_bucket_or_a_change_to_the_stack_s_bucket_is_refused(action: str, resource: str) -> None:
    assert not allows(policy(), action, resource)


def test_no_wildcard_grant() -> None:
    for statement in policy()["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        assert not any(action.endswith("*") for action in actions), statement["Sid"]
        assert not any(resource in {"*", "arn:aws:s3:::*"} for resource in resources), statement["Sid"]


def test_the_endpoint_must_admit_at_least_the_stack_s_bucket() -> None:
    with pytest.raises(ValueError, match="at least one bucket"):
        s3_endpoint_policy(region="eu-west-1", stack_bucket_arns=[])


# Through the plan.


def the_policy(plan: Plan) -> dict[str, Any]:
    (resource,) = plan.of_type("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy")
    return resource


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_every_stack_s_endpoint_admits_its_uploads_bucket_and_its_region_s_boot_buckets(stack_id: str) -> None:
    plan = plan_of(*STACKS[stack_id])
    (endpoint,) = plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    resource = the_policy(plan)
    assert resource["inputs"]["vpcEndpointId"] == f"{endpoint['name']}-id"
    assert "policy" not in endpoint["inputs"], "one policy, set by one resource"
    document = json.loads(resource["inputs"]["policy"])
    (uploads,) = [b for b in plan.of_type("aws:s3/bucket:Bucket") if b["name"] == "files-uploads"]
    region = plan.outputs["region"]
    uploads_arn = f"arn:aws:s3:{region}:123456789012:{uploads['name']}"  # the offline engine's ARN of the bucket
    assert allows(document, "s3:PutObject", f"{uploads_arn}/uploads/u/f.png")
    assert allows(document, "s3:GetObject", f"arn:aws:s3:::al2023-repos-{region}-de612dc2/x")
    for other in plan.of_type("aws:s3/bucket:Bucket"):
        if other["name"] != "files-uploads":
            other_arn = f"arn:aws:s3:{region}:123456789012:{other['name']}"
            assert not allows(document, "s3:PutObject", f"{other_arn}/x"), "log buckets are written by AWS"


def test_the_fleet_boots_behind_the_restricted_endpoint(prod_plan: Plan) -> None:
    groups = prod_plan.of_type("aws:autoscaling/group:Group")
    assert {group["name"] for group in groups} == {"app-fleet-asg", "worker-fleet-asg"}
    for group in groups:  # the app's and the job workers' instances both pull their image at boot
        assert the_policy(prod_plan)["urn"] in group["options"]["dependsOn"], group["name"]
