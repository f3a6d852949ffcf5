"""Production data survives mistakes; development can be torn down and rebuilt.

In production every stateful resource (data tier, logs, image registry) is `protect`ed (the engine refuses
to delete it) and retained on delete, and carries the service's own guard where it has one; in development nothing is.
The cache is deliberately not protected: it holds nothing MongoDB cannot rebuild (its snapshots are kept in
production instead, see test_data_cache).
"""

from __future__ import annotations

import pytest

from infra.plan.document import Plan
from tests.infra.plans import STACKS, plan_of

# Every type that holds data or history someone would miss, wherever in the program it is created.
STATEFUL_TYPES = {
    "mongodbatlas:index/project:Project",
    "mongodbatlas:index/advancedCluster:AdvancedCluster",
    "mongodbatlas:index/cloudBackupSchedule:CloudBackupSchedule",
    "aws:s3/bucket:Bucket",
    "aws:secretsmanager/secret:Secret",
    "aws:ecr/repository:Repository",
    "aws:cloudwatch/logGroup:LogGroup",  # the app's logs and the VPC flow logs: an audit trail
}
# What must exist, at least, for the rule to mean anything.
MUST_BE_PROTECTED = {
    "database-project",
    "database-cluster",
    "database-backup-schedule",
    "files-uploads",
    "app-secret-secret",
    "network-flow-logs",
}
MUST_BE_PROTECTED_ON_EC2 = {"load-balancer-logs", "registry-repository", "app-fleet-logs"}
PRODUCTION = sorted(k for k, (stack, _) in STACKS.items() if stack == "prod")
DEVELOPMENT = sorted(k for k, (stack, _) in STACKS.items() if stack == "dev")


def data_tier_stateful(plan: Plan) -> list[dict]:
    return [r for r in plan.resources if r["type"] in STATEFUL_TYPES]


@pytest.mark.parametrize("stack_id", PRODUCTION)
def test_production_protects_every_stateful_resource(stack_id: str) -> None:
    plan = plan_of(*STACKS[stack_id])
    stateful = data_tier_stateful(plan)
    expected = MUST_BE_PROTECTED | (MUST_BE_PROTECTED_ON_EC2 if plan.tier != "B" else set())
    assert {r["name"] for r in stateful} >= expected
    for resource in stateful:
        assert resource["options"]["protect"] is True, f"{stack_id}: {resource['urn']} is not protected"
        assert resource["options"]["retainOnDelete"] is True, f"{stack_id}: {resource['urn']} is not retained"


@pytest.mark.parametrize("stack_id", PRODUCTION)
def test_production_turns_on_each_services_own_guard(stack_id: str) -> None:
    plan = plan_of(*STACKS[stack_id])
    for resource in data_tier_stateful(plan):
        inputs = resource["inputs"]
        if resource["type"] == "aws:s3/bucket:Bucket":
            assert inputs.get("forceDestroy") is False, f"{resource['urn']} could be emptied on destroy"
        if resource["type"] == "aws:secretsmanager/secret:Secret":
            assert inputs["recoveryWindowInDays"] == 30, resource["urn"]
        if resource["type"] == "mongodbatlas:index/advancedCluster:AdvancedCluster":
            assert inputs["terminationProtectionEnabled"] is True, resource["urn"]
            assert inputs["retainBackupsEnabled"] is True, resource["urn"]


@pytest.mark.parametrize("stack_id", DEVELOPMENT)
def test_development_protects_nothing_so_it_can_be_rebuilt(stack_id: str) -> None:
    plan = plan_of(*STACKS[stack_id])
    protected = [r["urn"] for r in plan.resources if r["options"]["protect"] or r["options"]["retainOnDelete"]]
    assert protected == [], f"{stack_id}: {protected}"
    for resource in data_tier_stateful(plan):
        inputs = resource["inputs"]
        if resource["type"] == "aws:s3/bucket:Bucket":
            assert inputs.get("forceDestroy") is True, resource["urn"]
        if resource["type"] == "aws:secretsmanager/secret:Secret":
            assert inputs["recoveryWindowInDays"] == 0, resource["urn"]
        if resource["type"] == "mongodbatlas:index/advancedCluster:AdvancedCluster":
            assert inputs["terminationProtectionEnabled"] is False, resource["urn"]


def test_rotating_a_secret_value_is_never_blocked(prod_plan: Plan) -> None:
    """The secret is protected; its versions are not, so a new password can replace the stored value."""
    (version,) = prod_plan.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert version["options"]["protect"] is False
