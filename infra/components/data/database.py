"""The database: a MongoDB Atlas project with one replica-set cluster, peered privately with the VPC.

The cluster is a dedicated replica set of 3 (or 5, 7) electable nodes in the Atlas region of the stack's AWS
region, TLS 1.2 or newer, compute auto-scaling between the tier's bounds; production adds continuous cloud
backup with point-in-time restore, a backup schedule and termination protection. The app connects through
the peering connection with its own user, allowed to read and write its database only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network

import pulumi
import pulumi_mongodbatlas as atlas
import pulumi_random as random

from infra.capacity.atlas_limits import connections_per_node
from infra.capacity.mongo_connections import connections_alert_threshold
from infra.components.data.database_alerts import create_alerts
from infra.components.data.database_auditing import enable_database_auditing
from infra.components.data.database_peering import PeeringArgs, create_peering
from infra.config.model import AtlasInstanceSize, MongoVersion
from infra.planning.audit.atlas_auditing import supports_auditing
from infra.planning.data.atlas_regions import UnsupportedAtlasRegionError, atlas_region_name
from infra.planning.data.atlas_sizing import atlas_cidr_for
from infra.planning.data.connection_urls import mongo_url, peered_srv
from infra.planning.naming import child_name
from infra.planning.protection import protection_for

APP_USER = "contentry-app"
# Sunday (Atlas counts from Sunday = 1), 04:00, the app's quietest hour. Atlas reads `hour_of_day` in the
# project's time zone (Project Settings, changeable only in the Atlas UI), not necessarily UTC.
MAINTENANCE_DAY_OF_WEEK = 1
MAINTENANCE_HOUR_OF_DAY = 4


@dataclass(frozen=True)
class DatabaseArgs:
    name_prefix: str
    org_id: str
    aws_region: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: IPv4Network
    app_route_table_ids: Sequence[pulumi.Input[str]]
    instance_size: AtlasInstanceSize
    min_instance_size: AtlasInstanceSize
    max_instance_size: AtlasInstanceSize
    node_count: int
    mongo_version: MongoVersion
    is_production: bool
    alert_email: str
    tags: Mapping[str, str]
    connections_alert_percent: int = 80
    """The connections alert's threshold: % of the per-node limit of `min_instance_size`
    (alarmDatabaseConnectionsPercent)."""
    database_name: str = "contentry"

    @property
    def autoscaling(self) -> bool:
        return self.min_instance_size != self.max_instance_size


class Database(pulumi.ComponentResource):
    project_id: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    mongo_url: pulumi.Output[str]
    """Secret: mongodb+srv://<user>:<password>@<peered SRV host>/<database>?retryWrites=true&w=majority."""
    app_ready: list[pulumi.Resource]
    """What the app's first connection needs besides the cluster: its user, Atlas's access list entry for the
    VPC, and the routes to Atlas over the peering. The fleet waits for them (depends_on)."""

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:database:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        guard = protection_for(args.is_production)
        try:
            region = atlas_region_name(args.aws_region)
            atlas_cidr = atlas_cidr_for(args.vpc_cidr)
        except (UnsupportedAtlasRegionError, ValueError) as error:
            raise pulumi.RunError(str(error)) from error

        project = atlas.Project(
            child_name(name, "project"),
            name=args.name_prefix,
            org_id=args.org_id,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=guard.protect, retain_on_delete=guard.retain_on_delete),
        )
        self.project_id = project.id
        atlas.MaintenanceWindow(
            child_name(name, "maintenance"),
            project_id=project.id,
            day_of_week=MAINTENANCE_DAY_OF_WEEK,
            hour_of_day=MAINTENANCE_HOUR_OF_DAY,
            opts=child,
        )
        peering = create_peering(
            self,
            name,
            project.id,
            PeeringArgs(
                name_prefix=args.name_prefix,
                aws_region=args.aws_region,
                atlas_region=region,
                atlas_cidr=str(atlas_cidr),
                vpc_id=args.vpc_id,
                vpc_cidr=str(args.vpc_cidr),
                route_table_ids=args.app_route_table_ids,
            ),
        )

        cluster = atlas.AdvancedCluster(
            child_name(name, "cluster"),
            project_id=project.id,
            name=args.name_prefix,
            cluster_type="REPLICASET",
            mongo_db_major_version=args.mongo_version,
            version_release_system="LTS",
            # With auto-scaling on, Atlas changes the instance size itself. Without effective fields, the next
            # `pulumi up` would size the cluster back to `instance_size` (pulumi/pulumi-mongodbatlas#241, open);
            # the old workaround, ignore_changes on the size, also hid every deliberate change of it. With
            # effective fields the declared specs stay as declared and Atlas's running size is reported apart
            # ("Auto-Scaling with Effective Fields" in the AdvancedCluster docs). While auto-scaling stays on,
            # Atlas keeps its running size and ignores a new `instance_size`: to resize, set the min and max
            # sizes equal to the new size for one `up` (auto-scaling off: Atlas applies it), then restore them.
            use_effective_fields=True,
            replication_specs=[
                atlas.AdvancedClusterReplicationSpecArgs(
                    region_configs=[
                        atlas.AdvancedClusterReplicationSpecRegionConfigArgs(
                            provider_name="AWS",
                            region_name=region,
                            priority=7,
                            electable_specs=atlas.AdvancedClusterReplicationSpecRegionConfigElectableSpecsArgs(
                                instance_size=args.instance_size, node_count=args.node_count
                            ),
                            auto_scaling=self._auto_scaling(args),
                        )
                    ]
                )
            ],
            advanced_configuration=atlas.AdvancedClusterAdvancedConfigurationArgs(
                minimum_enabled_tls_protocol="TLS1_2",
                javascript_enabled=False,  # the app uses no server-side JavaScript; less attack surface
            ),
            backup_enabled=args.is_production,
            pit_enabled=args.is_production,
            retain_backups_enabled=args.is_production,  # snapshots outlive an accidental cluster deletion
            termination_protection_enabled=guard.deletion_protection,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=guard.protect,
                retain_on_delete=guard.retain_on_delete,
                # Peering first: Atlas then places the cluster in our container and returns private strings.
                depends_on=[peering.container, peering.accepter],
            ),
        )
        self.cluster_name = cluster.name
        if args.is_production:
            self._backup_schedule(name, project.id, cluster, guard.protect, guard.retain_on_delete)

        password = random.RandomPassword(child_name(name, "app-password"), length=40, special=False, opts=child)
        user = atlas.DatabaseUser(
            child_name(name, "app-user"),
            project_id=project.id,
            auth_database_name="admin",
            username=APP_USER,
            password=password.result,
            roles=[atlas.DatabaseUserRoleArgs(role_name="readWrite", database_name=args.database_name)],
            scopes=[atlas.DatabaseUserScopeArgs(name=cluster.name, type="CLUSTER")],
            opts=child,
        )
        create_alerts(
            self,
            name,
            project.id,
            args.alert_email,
            connections_threshold=connections_alert_threshold(
                connections_per_node(args.min_instance_size), args.connections_alert_percent
            ),
        )
        # Production audits who does what in the database; every tier this program runs (M10 and up) supports it.
        if args.is_production and supports_auditing(args.min_instance_size):
            enable_database_auditing(self, name, project.id)

        self.app_ready = [user, peering.access_list, *peering.routes]
        self.mongo_url = pulumi.Output.secret(
            pulumi.Output.all(cluster.connection_strings, user.username, password.result).apply(
                lambda v: mongo_url(_peered_srv(v[0]), v[1], v[2], args.database_name)
            )
        )
        self.register_outputs({"projectId": self.project_id, "clusterName": self.cluster_name})

    @staticmethod
    def _auto_scaling(args: DatabaseArgs) -> atlas.AdvancedClusterReplicationSpecRegionConfigAutoScalingArgs:
        if not args.autoscaling:
            return atlas.AdvancedClusterReplicationSpecRegionConfigAutoScalingArgs(
                compute_enabled=False, disk_gb_enabled=True
            )
        return atlas.AdvancedClusterReplicationSpecRegionConfigAutoScalingArgs(
            compute_enabled=True,
            compute_scale_down_enabled=True,
            compute_min_instance_size=args.min_instance_size,
            compute_max_instance_size=args.max_instance_size,
            disk_gb_enabled=True,
        )

    def _backup_schedule(
        self,
        name: str,
        project_id: pulumi.Output[str],
        cluster: atlas.AdvancedCluster,
        protect: bool,
        retain_on_delete: bool,
    ) -> None:
        # Snapshots every 6 hours kept 7 days, dailies 30 days, weeklies 12 weeks, monthlies a year; between
        # snapshots, point-in-time restore covers the last 7 days to the second.
        atlas.CloudBackupSchedule(
            child_name(name, "backup-schedule"),
            project_id=project_id,
            cluster_name=cluster.name,
            reference_hour_of_day=3,
            reference_minute_of_hour=0,
            restore_window_days=7,
            policy_item_hourly=atlas.CloudBackupSchedulePolicyItemHourlyArgs(
                frequency_interval=6, retention_unit="days", retention_value=7
            ),
            policy_item_daily=atlas.CloudBackupSchedulePolicyItemDailyArgs(
                frequency_interval=1, retention_unit="days", retention_value=30
            ),
            policy_item_weeklies=[
                atlas.CloudBackupSchedulePolicyItemWeeklyArgs(
                    frequency_interval=7,
                    retention_unit="weeks",
                    retention_value=12,  # Sundays
                )
            ],
            policy_item_monthlies=[
                atlas.CloudBackupSchedulePolicyItemMonthlyArgs(
                    frequency_interval=40,
                    retention_unit="months",
                    retention_value=12,  # 40 = last day of month
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=retain_on_delete),
        )


def _peered_srv(connection_strings: object) -> str:
    # A typed object from a direct .apply(), a plain dict (snake_case keys) through Output.all().
    def field(key: str) -> str | None:
        if isinstance(connection_strings, dict):
            return connection_strings.get(key)
        return getattr(connection_strings, key, None)

    try:
        return peered_srv(field("private_srv"), field("standard_srv"))
    except ValueError as error:
        raise pulumi.RunError(str(error)) from error
