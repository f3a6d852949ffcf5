"""Atlas alert configurations for the app's project, created by `Database` as its children."""

from __future__ import annotations

import pulumi
import pulumi_mongodbatlas as atlas

from infra.planning.naming import child_name

REPLICATION_LAG_SECONDS = 60  # a secondary this far behind could not take over without losing writes
DISK_USED_PERCENT = 80  # room for compaction and an index build before the disk fills
REPEAT_MINUTES = 60


def create_alerts(
    parent: pulumi.Resource,
    name: str,
    project_id: pulumi.Input[str],
    alert_email: str,
    *,
    connections_threshold: int,
) -> None:
    """`connections_threshold`: open connections per node (infra.capacity.mongo_connections.
    connections_alert_threshold of the smallest tier the cluster may run)."""
    child = pulumi.ResourceOptions(parent=parent)
    # The same destination as the CloudWatch alarms' email subscription (alertEmail). Atlas cannot publish to SNS
    # (its notification types are email, SMS, webhooks and named integrations such as PagerDuty), so the alert
    # topic's HTTPS endpoints, which expect SNS's signed messages and its subscription handshake, are not added.
    notify = [
        atlas.AlertConfigurationNotificationArgs(
            type_name="EMAIL", email_address=alert_email, interval_min=REPEAT_MINUTES, delay_min=0
        )
    ]
    metric_alerts = {
        # A count against the limit of the smallest tier the cluster may scale down to, not a percentage of the
        # running tier's: while auto-scaling has the cluster on a larger tier, its percentage looks low, yet
        # Atlas may scale down at any time (it follows CPU and memory, not connections) and then refuse what
        # is open. The fleet is sized to stay below 60% of that limit, so crossing the alert's share (80% by
        # default, alarmDatabaseConnectionsPercent) means a leak or another client, with room left to act.
        "connections": ("CONNECTIONS", connections_threshold, "RAW"),
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
