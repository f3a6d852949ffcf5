"""The typed stack config: tier presets, validation, and the one place that reads `pulumi.Config`."""

from infra.config.errors import ConfigProblem, InvalidStackConfig
from infra.config.loader import load_stack_config
from infra.config.model import (
    CacheEngine,
    CacheMode,
    Environment,
    NatStrategy,
    StackConfig,
    Tier,
)

__all__ = [
    "CacheEngine",
    "CacheMode",
    "ConfigProblem",
    "Environment",
    "InvalidStackConfig",
    "NatStrategy",
    "StackConfig",
    "Tier",
    "load_stack_config",
]
