"""The registry: which pricer prices each resource type, and which types cost nothing themselves.

One module per service family; each exports `PRICERS` (type token -> `PricerSpec`) and `FREE` (type token ->
why it costs nothing). A type in neither is reported as unpriced with a warning, never as $0.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from infra.cost.pricers import cdn, compute, data, dns, monitoring, network, security, storage
from infra.cost.pricing import PricerSpec

_MODULES = (compute, network, data, storage, cdn, security, monitoring, dns)


def _merged_pricers() -> Mapping[str, PricerSpec]:
    merged: dict[str, PricerSpec] = {}
    for module in _MODULES:
        duplicated = set(merged) & set(module.PRICERS)
        if duplicated:
            raise RuntimeError(f"priced twice: {sorted(duplicated)}")
        merged.update(module.PRICERS)
    return MappingProxyType(merged)


def _merged_free() -> Mapping[str, str]:
    merged: dict[str, str] = {}
    for module in _MODULES:
        merged.update(module.FREE)
    return MappingProxyType(merged)


PRICERS = _merged_pricers()
FREE_TYPES = _merged_free()
