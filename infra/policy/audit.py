"""CloudTrail: every region's events, log files that can be validated, encrypted with a customer-managed key."""

from __future__ import annotations

from collections.abc import Iterator

from infra.policy.model import Resource, get, present

TRAIL = "aws:cloudtrail/trail:Trail"


def multi_region_validated_encrypted(trail: Resource) -> Iterator[str]:
    if get(trail.inputs, "isMultiRegionTrail") is not True:
        yield f"{trail.name} records one region only: set is_multi_region_trail=True (an intruder picks another)"
    if get(trail.inputs, "enableLogFileValidation") is not True:
        yield (
            f"{trail.name}'s log files cannot be proven unaltered: set enable_log_file_validation=True (signed "
            "hourly digests)"
        )
    if not present(trail.inputs, "kmsKeyId"):
        yield f"{trail.name}'s log files are not encrypted with a KMS key: set kms_key_id to a customer-managed key"
