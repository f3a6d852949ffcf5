"""The tags every taggable resource carries, set once as the AWS provider's default tags."""

from __future__ import annotations

from infra.config.model import StackConfig

REQUIRED_TAG_KEYS = ("Project", "Stack", "Tier", "Environment", "CostCenter", "ManagedBy")


def default_tags(config: StackConfig) -> dict[str, str]:
    return {
        "Project": config.project,
        "Stack": config.stack,
        "Tier": config.tier.value,
        "Environment": config.environment.value,
        "CostCenter": config.cost_center,
        "ManagedBy": "pulumi",
    }
