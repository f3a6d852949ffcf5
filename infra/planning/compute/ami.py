"""Which Amazon Linux 2023 image the app fleet boots: looked up in AWS's public SSM parameters, never pasted.

The parameter always names the newest AL2023 release for the architecture, so each `pulumi up` picks up the
latest patched AMI; a new AMI id is a new launch template version, which rolls through the fleet with the
same guards as a new app image (instance refresh, checkpoints, automatic rollback).
"""

from __future__ import annotations

from enum import StrEnum


class Architecture(StrEnum):
    ARM64 = "arm64"
    """Graviton: about 15% cheaper than x86 at the same size (prices.md); the app image is built for both."""
    X86_64 = "x86_64"


def architecture_of(*, is_graviton: bool) -> Architecture:
    return Architecture.ARM64 if is_graviton else Architecture.X86_64


def al2023_ami_parameter(architecture: Architecture) -> str:
    """The public SSM parameter holding the current AL2023 AMI id (standard image, the distribution's kernel)."""
    return f"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{architecture.value}"
