"""Whether a stack's minimum fleet fits its tier's traffic model: a warning (not an error) when it cannot carry the
model's peak at the seed's 70% CPU, or when it carries more than twice the peak with more than one instance (or
pod) per AZ, so that a smaller fleet would keep the AZ rules. The sizing behind the tiers' presets is in
infra/capacity/sizing.py; a stack may differ on purpose (a dev stack carrying the team's own traffic), hence a
warning."""

from __future__ import annotations

from decimal import Decimal

from infra.capacity.instance_types import vcpus_of
from infra.capacity.sizing import OVERSIZED_FACTOR, TARGET_CPU
from infra.capacity.throughput import REQUESTS_PER_VCPU_SECOND
from infra.capacity.traffic import peak_rps, traffic_model
from infra.config.errors import ConfigProblem
from infra.config.keys import PROJECT_NAMESPACE
from infra.config.model import ComputePlatform, StackConfig


def fleet_capacity_warnings(
    config: StackConfig, rps_per_vcpu: Decimal = REQUESTS_PER_VCPU_SECOND
) -> list[ConfigProblem]:
    model = traffic_model(config.tier.value)
    peak = peak_rps(model)
    zones = config.network.az_count
    if config.platform is ComputePlatform.EKS:
        key, units = "podMinReplicas", config.kubernetes.min_replicas
        cores = Decimal(config.kubernetes.pod_cpu_millicores) / 1000
        what = f"{units} pods of {config.kubernetes.pod_cpu_millicores}m CPU"
    else:
        vcpus = vcpus_of(config.compute.instance_type)
        if vcpus is None:
            return []  # refused elsewhere, naming the type
        key, units, cores = "computeMinSize", config.compute.min_size, Decimal(vcpus)
        what = f"{units} x {config.compute.instance_type}"
    capacity = units * cores * rps_per_vcpu * TARGET_CPU
    sizing = (
        f"{what} serve about {capacity:,.0f} requests/s at {TARGET_CPU:.0%} CPU ({rps_per_vcpu} per vCPU, measured);"
        f" tier {config.tier.value}'s traffic model ({model.origin}) peaks at {peak:,.0f}"
    )
    if capacity < peak:
        return [ConfigProblem(f"{PROJECT_NAMESPACE}:{key}", f"{sizing}: the minimum fleet cannot carry the peak")]
    if capacity > OVERSIZED_FACTOR * peak and units > zones:
        return [
            ConfigProblem(
                f"{PROJECT_NAMESPACE}:{key}",
                f"{sizing}: the minimum fleet carries more than {OVERSIZED_FACTOR}x the peak, every hour of the month;"
                " a smaller one would keep one per AZ",
            )
        ]
    return []
