"""Atlas's database auditing for the app's project (production): who connected, failed to, or was refused an
action, and every change to users, roles and the schema (infra/planning/audit/atlas_auditing.py lists them).
Atlas keeps the audit log with the cluster's logs (Project, Database Deployments, Download Logs). Atlas's billing
("Additional Services") names no charge for it; it costs some of the cluster's CPU and disk."""

from __future__ import annotations

import pulumi
import pulumi_mongodbatlas as atlas

from infra.planning.audit.atlas_auditing import audit_filter
from infra.planning.naming import child_name


def enable_database_auditing(parent: pulumi.Resource, name: str, project_id: pulumi.Input[str]) -> atlas.Auditing:
    return atlas.Auditing(
        child_name(name, "auditing"),
        project_id=project_id,
        enabled=True,
        audit_filter=audit_filter(),
        # Every successful read and write would be logged too: Atlas warns it can severely slow the cluster.
        audit_authorization_success=False,
        opts=pulumi.ResourceOptions(parent=parent),
    )
