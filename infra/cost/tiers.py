"""The three tiers as finance reads them: which stack (and overrides) plans each, its finance target, and the
seed's figure for it (~$1,200, ~$1,400, ~$180, as the seed printed them)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class TierSpec:
    tier: str
    label: str
    stack: str
    overrides: tuple[str, ...]
    target: Decimal
    """Finance's monthly target (USD)."""
    seed_total: Decimal
    """The seed's monthly figure, which it printed as ~$N."""

    @property
    def command(self) -> str:
        sets = "".join(f" --set {o}" for o in self.overrides)
        return f"python -m infra.cli cost --stack {self.stack}{sets}"


TIERS = (
    TierSpec("A", "Tier A: AWS, 100K users (`prod`)", "prod", (), Decimal(1100), Decimal(1200)),
    TierSpec("B", "Tier B: Kubernetes (`prod --set tier=B`)", "prod", ("tier=B",), Decimal(1400), Decimal(1400)),
    TierSpec("C", "Tier C: budget, 10-20K users (`dev`)", "dev", (), Decimal(180), Decimal(180)),
)
SPECS = {spec.tier: spec for spec in TIERS}
