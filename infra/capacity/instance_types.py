"""vCPUs of an EC2 instance type, from its size name: what gunicorn would start one worker per.

EC2 names its sizes so that the vCPUs follow from the size (medium 1, large 2, xlarge 4, Nxlarge 4N) in every
current family; the exceptions are spelled out below. This is known without a cloud call, so the config rules
can size the database connection budget before anything is registered. The program then sets the worker
count explicitly (GUNICORN_WORKERS), so the budget holds whatever gunicorn would have detected.
"""

from __future__ import annotations

import re
from typing import Final

_SMALL_SIZES: Final = {"nano": 1, "micro": 1, "small": 1, "medium": 1, "large": 2, "xlarge": 4}
_BURSTABLE: Final = re.compile(r"^t\d+[a-z]*$")
_MULTIPLE_OF_XLARGE: Final = re.compile(r"^(\d+)xlarge$")
# t2 keeps 1 vCPU up to small (t2.medium has 2); the newer burstable families have 2 from nano up.
_T2_SINGLE_VCPU_SIZES: Final = frozenset({"nano", "micro", "small"})


def vcpus_of(instance_type: str) -> int | None:
    """The instance type's default vCPUs, or None where the name does not tell: bare-metal sizes, and the hpc
    families, which run with simultaneous multithreading off (hpc6a.48xlarge has 96 vCPUs, not 192)."""
    family, _, size = instance_type.partition(".")
    if not family or not size or family.startswith("hpc") or "metal" in size:
        return None
    if _BURSTABLE.match(family):
        if family == "t2" and size in _T2_SINGLE_VCPU_SIZES:
            return 1
        if family == "t1":  # t1.micro, the only size of the first burstable family
            return 1
        if size in _SMALL_SIZES:
            return max(2, _SMALL_SIZES[size])
    if size in _SMALL_SIZES:
        return _SMALL_SIZES[size]
    multiple = _MULTIPLE_OF_XLARGE.match(size)
    if multiple:
        return 4 * int(multiple.group(1))
    return None
