"""Which Amazon Linux 2023 image the app fleet boots: the AMI pinned in config (computeAmiId), or, with
`latest` (development only), the one AWS's public SSM parameter names for the architecture.

Pinned, because any new AMI id is a new launch template version, which replaces every instance: with the
parameter, the first `pulumi up` after an AL2023 release replaced the whole production fleet, whatever the up
was for. Now a new release reaches production when someone sets it (the command is in computeAmiId's
description and the README), and rolls with the same guards as a new app image (instance refresh, checkpoints,
bake time, automatic rollback). Development follows `latest`, so each release is tried there first.
"""

from __future__ import annotations

from enum import StrEnum

from infra.config.model import AL2023_AMI_PARAMETER_PREFIX


class Architecture(StrEnum):
    ARM64 = "arm64"
    """Graviton: about 15% cheaper than x86 at the same size (prices.md); the app image is built for both."""
    X86_64 = "x86_64"


def architecture_of(*, is_graviton: bool) -> Architecture:
    return Architecture.ARM64 if is_graviton else Architecture.X86_64


def al2023_ami_parameter(architecture: Architecture) -> str:
    """The public SSM parameter holding the current AL2023 AMI id (standard image, the distribution's kernel)."""
    return f"{AL2023_AMI_PARAMETER_PREFIX}{architecture.value}"
