"""The Atlas database, through the plan, for every tier and environment."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from infra.plan.document import Plan
from tests.infra.data.data_support import configured, only, resource
from tests.infra.plans import STACKS, plan_of

CLUSTER = "mongodbatlas:index/advancedCluster:AdvancedCluster"
ACCESS_LIST = "mongodbatlas:index/projectIpAccessList:ProjectIpAccessList"
ALERT = "mongodbatlas:index/alertConfiguration:AlertConfiguration"
BACKUP_SCHEDULE = "mongodbatlas:index/cloudBackupSchedule:CloudBackupSchedule"


def region_config(plan: Plan) -> dict:
    (spec,) = only(plan, CLUSTER)["inputs"]["replicationSpecs"]
    (config,) = spec["regionConfigs"]
    return config


def vpc_cidr(plan: Plan) -> str:
    return only(plan, "aws:ec2/vpc:Vpc")["inputs"]["cidrBlock"]


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_cluster_is_a_three_node_replica_set_sized_per_tier(stack_id: str) -> None:
    plan = plan_of(*STACKS[stack_id])
    cluster = only(plan, CLUSTER)["inputs"]
    size, low, high = (
        configured(stack_id, key) for key in ("atlasInstanceSize", "atlasMinInstanceSize", "atlasMaxInstanceSize")
    )
    assert cluster["clusterType"] == "REPLICASET"
    config = region_config(plan)
    nodes = int(configured(stack_id, "atlasNodeCount"))
    assert config["electableSpecs"] == {"instanceSize": size, "nodeCount": nodes}, stack_id
    assert config["priority"] == 7
    scaling = config["autoScaling"]
    assert scaling["computeEnabled"] is True
    assert (scaling["computeMinInstanceSize"], scaling["computeMaxInstanceSize"]) == (low, high)
    assert scaling["diskGbEnabled"] is True


def test_mongo_major_version_comes_from_config() -> None:
    assert only(plan_of("prod"), CLUSTER)["inputs"]["mongoDbMajorVersion"] == "8.0"
    assert only(plan_of("prod", ("mongoVersion=7.0",)), CLUSTER)["inputs"]["mongoDbMajorVersion"] == "7.0"


def test_autoscaling_keeps_the_declared_specs_without_ignoring_changes(any_plan: Plan) -> None:
    """Effective fields: Atlas's auto-scaled size is not undone by the next `up`, and no change is hidden.

    An ignore_changes on the instance size would also swallow a deliberate resize (raising atlasInstanceSize
    would never reach Atlas), so the cluster must not ignore any of its inputs.
    """
    cluster = only(any_plan, CLUSTER)
    assert cluster["inputs"]["useEffectiveFields"] is True, cluster["urn"]
    assert cluster["options"]["ignoreChanges"] == [], f"{cluster['urn']} hides changes to its inputs"


def test_a_declared_resize_reaches_the_cluster() -> None:
    """With auto-scaling off (min = max, the documented way to resize), Atlas applies the declared size."""
    fixed = plan_of("prod", ("atlasInstanceSize=M40", "atlasMinInstanceSize=M40", "atlasMaxInstanceSize=M40"))
    cluster = only(fixed, CLUSTER)
    assert region_config(fixed)["electableSpecs"]["instanceSize"] == "M40"
    assert region_config(fixed)["autoScaling"]["computeEnabled"] is False
    assert cluster["options"]["ignoreChanges"] == []


def test_tls_and_server_side_javascript(any_plan: Plan) -> None:
    advanced = only(any_plan, CLUSTER)["inputs"]["advancedConfiguration"]
    assert advanced["minimumEnabledTlsProtocol"] == "TLS1_2"
    assert advanced["javascriptEnabled"] is False


def test_production_has_backups_point_in_time_restore_and_termination_protection() -> None:
    for stack_id in ("prod", "prod-tier-B", "prod-tier-C"):
        plan = plan_of(*STACKS[stack_id])
        cluster = only(plan, CLUSTER)["inputs"]
        assert cluster["backupEnabled"] is True, stack_id
        assert cluster["pitEnabled"] is True, stack_id
        assert cluster["retainBackupsEnabled"] is True, stack_id
        assert cluster["terminationProtectionEnabled"] is True, stack_id
        schedule = only(plan, BACKUP_SCHEDULE)["inputs"]
        assert schedule["clusterName"] == cluster["name"]
        assert schedule["restoreWindowDays"] >= 7
        assert schedule["policyItemDaily"]["retentionValue"] >= 7
        assert schedule["policyItemWeeklies"]
        assert schedule["policyItemMonthlies"]


@pytest.mark.parametrize("stack_id", ["dev", "dev-tier-B"])
def test_development_clusters_skip_backups_and_can_be_terminated(stack_id: str) -> None:
    plan = plan_of(*STACKS[stack_id])
    cluster = only(plan, CLUSTER)["inputs"]
    assert cluster["backupEnabled"] is False
    assert cluster["pitEnabled"] is False
    assert cluster["terminationProtectionEnabled"] is False
    assert plan.of_type(BACKUP_SCHEDULE) == []


def test_project_lives_in_the_configured_organization(any_plan: Plan) -> None:
    project = only(any_plan, "mongodbatlas:index/project:Project")["inputs"]
    assert project["orgId"] == "5f0000000000000000000000"  # the offline stand-in for atlasOrgId
    assert project["name"] == f"contentry-{any_plan.stack}"
    assert only(any_plan, CLUSTER)["inputs"]["projectId"] == "database-project-id"


def test_access_list_admits_the_vpc_only(any_plan: Plan) -> None:
    entries = any_plan.of_type(ACCESS_LIST)
    assert [e["inputs"].get("cidrBlock") for e in entries] == [vpc_cidr(any_plan)]
    for entry in entries:
        assert entry["inputs"].get("cidrBlock") != "0.0.0.0/0", entry["urn"]
        assert "ipAddress" not in entry["inputs"], entry["urn"]


def test_peering_connects_the_vpc_to_a_disjoint_atlas_range(any_plan: Plan) -> None:
    container = only(any_plan, "mongodbatlas:index/networkContainer:NetworkContainer")["inputs"]
    atlas_range = IPv4Network(container["atlasCidrBlock"])
    assert container["providerName"] == "AWS"
    assert not atlas_range.overlaps(IPv4Network(vpc_cidr(any_plan)))
    peering = only(any_plan, "mongodbatlas:index/networkPeering:NetworkPeering")["inputs"]
    assert peering["vpcId"] == "network-vpc-id"
    assert peering["routeTableCidrBlock"] == vpc_cidr(any_plan)
    assert peering["awsAccountId"] == "123456789012"
    assert peering["containerId"] == "database-container-container"
    accepter = only(any_plan, "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter")["inputs"]
    assert accepter["autoAccept"] is True
    assert accepter["vpcPeeringConnectionId"].startswith("pcx-")


def test_app_subnets_route_to_atlas_over_the_peering(any_plan: Plan) -> None:
    atlas_range = only(any_plan, "mongodbatlas:index/networkContainer:NetworkContainer")["inputs"]["atlasCidrBlock"]
    private_tables = {
        f"{t['name']}-id" for t in any_plan.of_type("aws:ec2/routeTable:RouteTable") if "private-rt" in t["name"]
    }
    atlas_routes = [
        r for r in any_plan.of_type("aws:ec2/route:Route") if r["inputs"].get("destinationCidrBlock") == atlas_range
    ]
    assert {r["inputs"]["routeTableId"] for r in atlas_routes} == private_tables
    assert len(atlas_routes) == len(private_tables)
    for route in atlas_routes:
        assert route["inputs"]["vpcPeeringConnectionId"] == "database-peering-accepter-id", route["urn"]


def test_cluster_waits_for_the_peering(any_plan: Plan) -> None:
    depends = only(any_plan, CLUSTER)["options"]["dependsOn"]
    assert resource(any_plan, "database-peering-accepter")["urn"] in depends
    assert resource(any_plan, "database-container")["urn"] in depends


def test_app_user_reads_and_writes_its_database_only(any_plan: Plan) -> None:
    user = only(any_plan, "mongodbatlas:index/databaseUser:DatabaseUser")["inputs"]
    assert user["roles"] == [{"databaseName": "contentry", "roleName": "readWrite"}]
    assert user["scopes"] == [{"name": f"contentry-{any_plan.stack}", "type": "CLUSTER"}]
    assert user["authDatabaseName"] == "admin"
    assert user["password"] == "[secret]"
    password = resource(any_plan, "database-app-password")["inputs"]
    assert password["length"] >= 32
    assert password["special"] is False  # no character that needs quoting anywhere


def test_maintenance_window_is_sunday_at_four(any_plan: Plan) -> None:
    """Sunday 04:00 in the Atlas project's time zone (Atlas counts days from Sunday = 1)."""
    window = only(any_plan, "mongodbatlas:index/maintenanceWindow:MaintenanceWindow")["inputs"]
    assert (window["dayOfWeek"], window["hourOfDay"]) == (1, 4)
    assert window["projectId"] == "database-project-id"


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_alerts_cover_connections_lag_disk_and_host_down(stack_id: str) -> None:
    plan = plan_of(*STACKS[stack_id])
    alerts = {a["name"]: a["inputs"] for a in plan.of_type(ALERT)}
    assert set(alerts) == {
        "database-alert-connections",
        "database-alert-replication-lag",
        "database-alert-disk-used",
        "database-alert-host-down",
    }
    for name, alert in alerts.items():
        assert alert["enabled"] is True, name
        assert alert["notifications"] == [
            {"delayMin": 0, "emailAddress": "alerts@example.com", "intervalMin": 60, "typeName": "EMAIL"}
        ], name
    connections = alerts["database-alert-connections"]["metricThresholdConfig"]
    # A count of open connections per node, against the smallest tier Atlas may scale the cluster down to.
    assert (connections["metricName"], connections["units"]) == ("CONNECTIONS", "RAW")
    assert connections["operator"] == "GREATER_THAN"
    assert alerts["database-alert-replication-lag"]["metricThresholdConfig"]["metricName"] == (
        "OPLOG_SLAVE_LAG_MASTER_TIME"
    )
    disk = alerts["database-alert-disk-used"]["metricThresholdConfig"]
    assert (disk["metricName"], disk["threshold"]) == ("DISK_PARTITION_SPACE_USED_DATA", 80)
    assert alerts["database-alert-host-down"]["eventType"] == "HOST_DOWN"


def test_connection_alert_does_not_depend_on_the_declared_size() -> None:
    """The declared size is only where the cluster starts; the alert must hold for whatever tier it runs."""
    default = resource(plan_of("prod"), "database-alert-connections")["inputs"]
    larger = plan_of("prod", ("atlasInstanceSize=M40", "atlasMaxInstanceSize=M60"))
    assert resource(larger, "database-alert-connections")["inputs"] == default


def test_cluster_name_is_exported(any_plan: Plan) -> None:
    assert any_plan.outputs["atlasClusterName"] == f"contentry-{any_plan.stack}"
