"""What Atlas's database auditing records in production (Atlas docs, "Set Up Database Auditing" and "Guidance for
Atlas Auditing": at least failed logins, session activity, logins and logouts, attempts at unauthorized
actions), and which clusters can have it (M10 and up; not free or Flex clusters)."""

from __future__ import annotations

import json
from typing import Final

from infra.config.model import atlas_size_rank

AUDITING_MINIMUM_SIZE: Final = "M10"
AUDITED_ACTIONS: Final = (
    # Who connected and as whom, successful or not.
    "authenticate",
    "logout",
    # Authorization failures only: auditing every successful read and write (auditAuthorizationSuccess) would
    # slow a busy cluster, Atlas's docs warn.
    "authCheck",
    # Users and roles.
    "createUser",
    "dropUser",
    "dropAllUsersFromDatabase",
    "updateUser",
    "grantRolesToUser",
    "revokeRolesFromUser",
    "createRole",
    "updateRole",
    "dropRole",
    "dropAllRolesFromDatabase",
    "grantRolesToRole",
    "revokeRolesFromRole",
    "grantPrivilegesToRole",
    "revokePrivilegesFromRole",
    # Schema changes (DDL).
    "createCollection",
    "createDatabase",
    "createIndex",
    "renameCollection",
    "dropCollection",
    "dropDatabase",
    "dropIndex",
    # The replica set itself.
    "replSetReconfig",
    "shutdown",
)


def supports_auditing(instance_size: str) -> bool:
    """Database auditing needs a dedicated cluster: M10 or larger."""
    return atlas_size_rank(instance_size) >= atlas_size_rank(AUDITING_MINIMUM_SIZE)


def audit_filter() -> str:
    """The audit filter Atlas applies (a MongoDB audit filter document, as JSON)."""
    return json.dumps({"atype": {"$in": list(AUDITED_ACTIONS)}}, sort_keys=True)
