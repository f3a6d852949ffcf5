"""How stateful resources are guarded, per environment.

Production data must survive a mistaken `pulumi destroy`, a refactor that renames a resource, or a config
change that forces a replacement: `protect` makes the engine refuse to delete, `retain_on_delete` leaves the
cloud resource in place if it is ever removed from the program. Development stacks get neither, so they can
be torn down and rebuilt from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Protection:
    protect: bool
    retain_on_delete: bool
    deletion_protection: bool
    """The service's own guard where it has one (Atlas termination protection)."""
    secret_recovery_window_days: int
    """Secrets Manager: 0 deletes at once (dev rebuilds reuse no name); 30 is the longest undo window."""
    force_destroy_buckets: bool
    """Dev buckets may be emptied on destroy; production buckets never."""


def protection_for(is_production: bool) -> Protection:
    if is_production:
        return Protection(
            protect=True,
            retain_on_delete=True,
            deletion_protection=True,
            secret_recovery_window_days=30,
            force_destroy_buckets=False,
        )
    return Protection(
        protect=False,
        retain_on_delete=False,
        deletion_protection=False,
        secret_recovery_window_days=0,
        force_destroy_buckets=True,
    )
