"""The ElastiCache cache (or the external Redis), through the plan, for every tier and environment."""

from __future__ import annotations

import pytest

from infra.plan.document import Plan
from tests.infra.data.data_support import EXTERNAL_CACHE, app_settings_of, configured, only, resource
from tests.infra.plans import STACKS, plan_of

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_SG = "cache-sg"


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_node_type_and_replicas_per_tier(stack_id: str) -> None:
    """The tier's preset node type and replica count (or the shape's override): a replica means failover."""
    group = only(plan_of(*STACKS[stack_id]), GROUP)["inputs"]
    clusters = 1 + int(configured(stack_id, "cacheReplicas"))
    assert group["nodeType"] == configured(stack_id, "cacheNodeType"), stack_id
    assert group["numCacheClusters"] == clusters, stack_id
    has_replica = clusters > 1
    assert group["automaticFailoverEnabled"] is has_replica, stack_id
    assert group["multiAzEnabled"] is has_replica, stack_id


def test_encrypted_at_rest_and_in_transit_with_an_auth_token(any_plan: Plan) -> None:
    group = only(any_plan, GROUP)["inputs"]
    assert group["atRestEncryptionEnabled"] is True
    assert group["transitEncryptionEnabled"] is True
    assert group["authToken"] == "[secret]"
    token = resource(any_plan, "cache-auth-token")["inputs"]
    assert 16 <= token["length"] <= 128  # ElastiCache's AUTH token bounds
    assert token["special"] is False  # '@', '"' and '/' are refused by ElastiCache


@pytest.mark.parametrize(("engine", "family"), [("valkey", "valkey8"), ("redis", "redis7")])
def test_engine_comes_from_config_with_a_matching_parameter_group(engine: str, family: str) -> None:
    plan = plan_of("prod", (f"cacheEngine={engine}",))
    group = only(plan, GROUP)["inputs"]
    assert group["engine"] == engine
    parameters = only(plan, "aws:elasticache/parameterGroup:ParameterGroup")["inputs"]
    assert parameters["family"] == family
    assert group["parameterGroupName"] == "cache-params-offline"


def test_eviction_policy_suits_a_cache(any_plan: Plan) -> None:
    parameters = only(any_plan, "aws:elasticache/parameterGroup:ParameterGroup")["inputs"]["parameters"]
    assert {"name": "maxmemory-policy", "value": "allkeys-lru"} in parameters


def test_lives_in_the_data_subnets(any_plan: Plan) -> None:
    subnet_group = only(any_plan, "aws:elasticache/subnetGroup:SubnetGroup")["inputs"]
    isolated = [f"{s['name']}-id" for s in any_plan.of_type("aws:ec2/subnet:Subnet") if "isolated" in s["name"]]
    assert sorted(subnet_group["subnetIds"]) == sorted(isolated)
    assert only(any_plan, GROUP)["inputs"]["subnetGroupName"] == "cache-subnets-offline"


def test_security_group_has_no_rules_of_its_own(any_plan: Plan) -> None:
    group = resource(any_plan, CACHE_SG)
    assert group["inputs"]["vpcId"] == "network-vpc-id"
    assert not group["inputs"].get("ingress")
    assert not group["inputs"].get("egress")
    assert only(any_plan, GROUP)["inputs"]["securityGroupIds"] == [f"{CACHE_SG}-id"]


def test_only_security_groups_may_be_admitted_to_the_cache(any_plan: Plan) -> None:
    """Compute owns the ingress rule (from the app's group); no rule may open the cache to an address range."""
    rules = [
        r
        for r in any_plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        + any_plan.of_type("aws:ec2/securityGroupRule:SecurityGroupRule")
        if r["inputs"].get("securityGroupId") == f"{CACHE_SG}-id"
    ]
    for rule in rules:
        assert rule["inputs"].get("referencedSecurityGroupId") or rule["inputs"].get("sourceSecurityGroupId"), (
            f"{rule['urn']} admits an address range to the cache"
        )
        assert not rule["parent"].endswith("::cache"), f"{rule['urn']}: the data tier must not depend on compute"


def test_snapshots_are_kept_in_production_only() -> None:
    for stack_id in sorted(STACKS):
        group = only(plan_of(*STACKS[stack_id]), GROUP)["inputs"]
        expected = stack_id.startswith("prod")
        assert (group["snapshotRetentionLimit"] > 0) is expected, stack_id
        assert group["applyImmediately"] is not expected, stack_id


def test_production_keeps_a_final_snapshot_when_the_group_is_deleted_or_replaced() -> None:
    """Automatic snapshots go with their replication group: only a final snapshot survives a replacement."""
    for stack_id in sorted(STACKS):
        plan = plan_of(*STACKS[stack_id])
        final = only(plan, GROUP)["inputs"].get("finalSnapshotIdentifier")
        if stack_id.startswith("prod"):
            assert final == f"contentry-{plan.stack}-cache-final", stack_id
        else:
            assert final is None, f"{stack_id}: dev is torn down and rebuilt, its cache rebuilds from MongoDB"


def test_endpoint_is_exported_and_the_secret_holds_a_tls_url_with_the_token() -> None:
    plan = plan_of("prod")
    assert plan.outputs["cacheEndpoint"] == "master.cache-redis.offln.us-1.cache.amazonaws.com"
    url = app_settings_of("prod")["REDIS_URL"]
    assert url.startswith("rediss://:")
    assert url.endswith("@master.cache-redis.offln.us-1.cache.amazonaws.com:6379/0")


def test_external_mode_provisions_no_cache_and_passes_the_configured_url() -> None:
    plan = plan_of(*EXTERNAL_CACHE)
    assert [r for r in plan.resources if r["type"].startswith("aws:elasticache/")] == []
    assert [r for r in plan.resources if r["name"].startswith("cache")] == []
    assert plan.outputs.get("cacheEndpoint") is None
    configured = next(o.split("=", 1)[1] for o in EXTERNAL_CACHE[1] if o.startswith("externalRedisUrl="))
    assert app_settings_of(*EXTERNAL_CACHE)["REDIS_URL"] == configured
