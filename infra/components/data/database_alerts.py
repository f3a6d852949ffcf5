"""Atlas alert configurations for the app's project, created by `Database` as its children."""

from __future__ import annotations

import pulumi
import pulumi_mongodbatlas as atlas

from infra.planning.naming import child_name

# Of the running tier's connection limit, per node: alert while there is time to find the leak or scale.
CONNECTIONS_PERCENT_OF_LIMIT = 80
REPLICATION_LAG_SECONDS = 60  # a secondary this far behind could not take over without losing writes
DISK_USED_PERCENT = 80  # room for compaction and an index build before the disk fills
REPEAT_MINUTES = 60


def create_alerts(parent: pulumi.Resource, name: str, project_id: pulumi.Input[str], alert_email: str) -> None:
    child = pulumi.ResourceOptions(parent=parent)
    notify = [
        atlas.AlertConfigurationNotificationArgs(
            type_name="EMAIL", email_address=alert_email, interval_min=REPEAT_MINUTES, delay_min=0
        )
    ]
    metric_alerts = {
        # A percentage of the limit of the tier the node runs now (Atlas's "Connections % of configured limit",
        # a host metric): a count derived from the declared size would drift as auto-scaling changes the tier.
        "connections": ("CONNECTIONS_PERCENT", CONNECTIONS_PERCENT_OF_LIMIT, "RAW"),
        "replication-lag": ("OPLOG_SLAVE_LAG_MASTER_TIME", REPLICATION_LAG_SECONDS, "SECONDS"),
        "disk-used": ("DISK_PARTITION_SPACE_USED_DATA", DISK_USED_PERCENT, "RAW"),
    }
    for label, (metric, threshold, units) in metric_alerts.items():
        atlas.AlertConfiguration(
            child_name(name, "alert", label),
            project_id=project_id,
            event_type="OUTSIDE_METRIC_THRESHOLD",
            enabled=True,
            metric_threshold_config=atlas.AlertConfigurationMetricThresholdConfigArgs(
                metric_name=metric, operator="GREATER_THAN", threshold=threshold, units=units, mode="AVERAGE"
            ),
            notifications=notify,
            opts=child,
        )
    atlas.AlertConfiguration(
        child_name(name, "alert", "host-down"),
        project_id=project_id,
        event_type="HOST_DOWN",
        enabled=True,
        notifications=notify,
        opts=child,
    )
