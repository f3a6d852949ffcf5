"""The capacity plan of each tier and the cheapest configuration that carries its traffic model's peak.

For each tier: size the fleet for every candidate instance type (infra.capacity.sizing, with the measured
throughput), then search the combinations of the levers that keep the environment's rules (fleet shape, cache node
size, CloudFront price class, log retention; in development also the NAT strategy and turning the CDN on), each
combination validated by the config rules themselves (production's no single point of failure, the MongoDB
connection budget, ...) and priced at the model's traffic. Not one lever at a time: every combination, priced as a
whole. Then what the finance target buys: the most concurrent users whose cheapest sized configuration fits it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from infra.capacity.atlas_limits import connections_per_node
from infra.capacity.cache_nodes import holds
from infra.capacity.ec2_fleet import UnknownVcpusError, ec2_fleet_budget, largest_fitting_fleet
from infra.capacity.kubernetes_fleet import pod_fleet_budget
from infra.capacity.kubernetes_nodes import Resources, app_pod_capacity, node_shape
from infra.capacity.mongo_connections import ConnectionBudgetError, connections_alert_threshold
from infra.capacity.sizing import FleetSizing, PodSizing, SizingError, size_ec2_fleet, size_pods_and_nodes
from infra.capacity.throughput import REQUESTS_PER_VCPU_SECOND
from infra.capacity.traffic import TrafficModel, peak_database_operations_per_second, peak_rps
from infra.config.errors import InvalidStackConfig
from infra.config.loader import resolve
from infra.cost.model import Estimate
from infra.cost.price_table import PriceTable
from infra.cost.scenario import Levers, patched, price
from infra.cost.tiers import TierSpec
from infra.cost.traffic_usage import flat_settings
from infra.plan.document import Plan, build_plan
from infra.plan.project_files import read_project, stack_inputs

MAX_SIZE_FACTOR = 3
"""The fleet may scale out to three times its sized minimum (target tracking at 50% CPU adds instances well before
the sized fleet reaches 70%), as far as the MongoDB connection budget allows."""
# Candidates. One Graviton generation (c7g/m7g) for the production fleets: the measured throughput per vCPU is
# applied to each type alike, which holds within a generation, not across (Graviton2 is slower per vCPU).
FLEET_TYPES = {
    "A": ("c7g.medium", "c7g.large", "c7g.xlarge", "c7g.2xlarge", "m7g.medium", "m7g.large", "m7g.xlarge"),
    "B": ("c7g.large", "c7g.xlarge", "c7g.2xlarge", "m7g.large", "m7g.xlarge", "m7g.2xlarge"),
    # Development may run burstable types (their credits are the trade-off, warned about by `cost`).
    "C": ("t4g.medium", "t4g.large", "t4g.xlarge", "c7g.medium", "c7g.large", "m7g.medium", "m7g.large"),
}
CACHE_TYPES = {
    "production": (
        "cache.t4g.medium",
        "cache.m6g.large",
        "cache.m7g.large",
        "cache.r6g.large",
        "cache.r7g.large",
        "cache.m6g.xlarge",
    ),
    "development": ("cache.t4g.micro", "cache.t4g.small", "cache.t4g.medium"),
}
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
RETENTION_DAYS = {
    # Production keeps a year: flow logs, the load balancer's and the app's access logs are its audit trail
    # (Checkov CKV_AWS_338 asks CloudWatch log groups for at least one year).
    "production": (365,),
    "development": (7, 14, 30, 90),
}
AUDIT_FLOOR_DAYS = 365
STRUCTURAL = {
    # Settings that add or remove resources (a real plan each), spelled whole so that the search does not depend
    # on the presets it sets: development only, where a single NAT (gateway or instance) is allowed.
    "C": tuple(
        (f"natStrategy={nat}", f"cdnEnabled={cdn}") for nat in ("single", "instance") for cdn in ("false", "true")
    ),
}


@dataclass(frozen=True)
class FleetPlan:
    """A candidate fleet sized for a peak: the levers it sets and the sizing behind them."""

    levers: Levers
    sizing: FleetSizing | PodSizing

    def describe(self) -> str:
        levers = self.levers
        if isinstance(self.sizing, PodSizing):
            pods = self.sizing.pods
            return (
                f"{pods.total} pods ({pods.per_zone} per AZ, {_carry(pods.needed)} the peak) on {levers.instances} x "
                f"{levers.instance_type} nodes"
            )
        fleet = self.sizing.fleet
        return (
            f"{fleet.total} x {levers.instance_type} ({fleet.per_zone} per AZ; {_carry(fleet.needed)} the peak at 70% "
            "CPU, the rest is the AZ-loss spare)"
        )


def _carry(needed: int) -> str:
    return f"{needed} carries" if needed == 1 else f"{needed} carry"


@dataclass(frozen=True)
class Candidate:
    structure: tuple[str, ...]
    instance_type: str
    fleet: FleetPlan | None
    levers: Levers | None
    estimate: Estimate | None
    refused: str = ""

    @property
    def total(self) -> Decimal:
        if self.estimate is None:
            raise ValueError(f"{self.instance_type}: refused ({self.refused}), so it has no price")
        return self.estimate.total

    @property
    def chosen(self) -> tuple[FleetPlan, Levers, Estimate]:
        assert self.fleet is not None, self.refused
        assert self.levers is not None, self.refused
        assert self.estimate is not None, self.refused
        return self.fleet, self.levers, self.estimate

    @property
    def overrides(self) -> tuple[str, ...]:
        return (*self.structure, *(self.levers.overrides() if self.levers else ()))


@dataclass
class SearchResult:
    spec: TierSpec
    model: TrafficModel
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def priced(self) -> list[Candidate]:
        return sorted((c for c in self.candidates if c.estimate is not None), key=lambda c: c.total)

    @property
    def best(self) -> Candidate:
        priced = self.priced
        if not priced:
            reasons = "; ".join(sorted({c.refused for c in self.candidates}))[:500]
            raise SizingError(f"tier {self.spec.tier}: no configuration carries the model's peak ({reasons})")
        return priced[0]

    @property
    def refused(self) -> list[Candidate]:
        return [c for c in self.candidates if c.estimate is None]


def environment_of(plan: Plan) -> str:
    return str(flat_settings(plan.config).get("environment", "development"))


def size_fleet(plan: Plan, model: TrafficModel, instance_type: str, rps_per_vcpu: Decimal) -> FleetPlan:
    """The fleet of `instance_type` that carries `model`'s peak in `plan`'s AZs, with its maximum."""
    settings = flat_settings(plan.config)
    zones = int(settings["azCount"])
    common = {
        "cache_node_type": settings["cacheNodeType"],
        "cdn_price_class": settings["cdnPriceClass"],
        "log_retention_days": int(settings["logRetentionDays"]),
    }
    if plan.tier == "B":
        request = Resources(int(settings["podCpuRequestMillicores"]), int(settings["podMemoryRequestMib"]))
        sizing = size_pods_and_nodes(
            peak_rps=peak_rps(model),
            rps_per_vcpu=rps_per_vcpu,
            pod_request=request,
            node_type=instance_type,
            zones=zones,
        )
        shape = node_shape(instance_type)
        max_pods = MAX_SIZE_FACTOR * sizing.pods.total
        max_nodes = next(
            n for n in itertools.count(sizing.nodes.total) if app_pod_capacity(shape, n, request) >= max_pods
        )
        levers = Levers(
            instance_type=instance_type,
            instances=sizing.nodes.total,
            max_instances=max_nodes,
            pods=sizing.pods.total,
            max_pods=max_pods,
            **common,
        )
        return FleetPlan(levers, sizing)
    sizing = size_ec2_fleet(
        peak_rps=peak_rps(model), rps_per_vcpu=rps_per_vcpu, instance_type=instance_type, zones=zones
    )
    total = sizing.fleet.total
    fitting = largest_fitting_fleet(instance_type=instance_type, atlas_min_tier=settings["atlasMinInstanceSize"])
    largest = min(MAX_SIZE_FACTOR * total, max(fitting, total))
    levers = Levers(instance_type=instance_type, instances=total, max_instances=largest, **common)
    return FleetPlan(levers, sizing)


class Validator:
    """The config rules, run on the stack's own inputs with a candidate's overrides (fast: no plan)."""

    def __init__(self, project_root: Path, spec: TierSpec) -> None:
        self.project = read_project(project_root)
        self.spec = spec

    def problems(self, overrides: tuple[str, ...]) -> str:
        raw = stack_inputs(self.project, self.spec.stack, [*self.spec.overrides, *overrides])
        try:
            resolve(raw, allow_placeholders=True)
        except InvalidStackConfig as error:
            return "; ".join(str(problem) for problem in error.problems)
        return ""


def _lever_grid(plan: Plan, fleet: FleetPlan, working_set_gb: Decimal) -> Iterator[Levers]:
    environment = environment_of(plan)
    settings = flat_settings(plan.config)
    cdn = settings["cdnEnabled"].lower() == "true"
    caches = [c for c in CACHE_TYPES[environment] if holds(c, working_set_gb)]
    classes = PRICE_CLASSES if cdn else (settings["cdnPriceClass"],)
    for cache, price_class, days in itertools.product(caches, classes, RETENTION_DAYS[environment]):
        yield Levers(
            instance_type=fleet.levers.instance_type,
            instances=fleet.levers.instances,
            max_instances=fleet.levers.max_instances,
            pods=fleet.levers.pods,
            max_pods=fleet.levers.max_pods,
            cache_node_type=cache,
            cdn_price_class=price_class,
            log_retention_days=days,
        )


def search(
    spec: TierSpec,
    model: TrafficModel,
    project_root: Path,
    prices: PriceTable,
    today: dt.date,
    rps_per_vcpu: Decimal = REQUESTS_PER_VCPU_SECOND,
    plans: dict[tuple[str, ...], Plan] | None = None,
) -> SearchResult:
    """Every combination of the tier's levers, refused by the config rules or priced at the model's traffic."""
    result = SearchResult(spec, model)
    validator = Validator(project_root, spec)
    plans = plans if plans is not None else {}
    working_set = model.document.storage.cache_working_set_gb.value
    for structure in STRUCTURAL.get(spec.tier, ((),)):
        if structure not in plans:
            plans[structure] = build_plan(spec.stack, (*spec.overrides, *structure), project_root)
        base = plans[structure]
        for instance_type in FLEET_TYPES[spec.tier]:
            try:
                fleet = size_fleet(base, model, instance_type, rps_per_vcpu)
            except (SizingError, ValueError, UnknownVcpusError) as error:
                result.candidates.append(Candidate(structure, instance_type, None, None, None, str(error)))
                continue
            for levers in _lever_grid(base, fleet, working_set):
                problems = validator.problems((*structure, *levers.overrides()))
                if problems:
                    result.candidates.append(Candidate(structure, instance_type, fleet, levers, None, problems))
                    continue
                estimate = price(patched(base, levers), model, project_root, prices, today)
                result.candidates.append(Candidate(structure, instance_type, fleet, levers, estimate))
    return result


@dataclass(frozen=True)
class ConnectionCheck:
    """The Atlas tier against the app fleet at its largest: the connection budget and the connections alert."""

    atlas_tier: str
    limit_per_node: int
    processes: int
    pool_per_worker: int
    peak_connections_per_node: int
    alert_threshold: int
    peak_database_ops: Decimal

    @property
    def share(self) -> Decimal:
        return Decimal(self.peak_connections_per_node) / self.limit_per_node

    @property
    def alert_share(self) -> Decimal:
        return Decimal(self.alert_threshold) / self.limit_per_node


def connection_check(levers: Levers, plan: Plan, model: TrafficModel) -> ConnectionCheck:
    settings = flat_settings(plan.config)
    atlas_tier = settings["atlasMinInstanceSize"]
    try:
        if plan.tier == "B":
            pods = pod_fleet_budget(
                cpu_request_millicores=int(settings["podCpuRequestMillicores"]),
                max_replicas=levers.max_pods or int(settings["podMaxReplicas"]),
                atlas_min_tier=atlas_tier,
            )
            budget = pods.mongo
        else:
            budget = ec2_fleet_budget(
                instance_type=levers.instance_type, max_size=levers.max_instances, atlas_min_tier=atlas_tier
            ).mongo
    except ConnectionBudgetError as error:
        raise SizingError(str(error)) from None
    limit = connections_per_node(atlas_tier)
    return ConnectionCheck(
        atlas_tier=atlas_tier,
        limit_per_node=limit,
        processes=budget.fleet_processes,
        pool_per_worker=budget.pool_per_worker,
        peak_connections_per_node=budget.peak_connections_per_node,
        alert_threshold=connections_alert_threshold(limit),
        peak_database_ops=peak_database_operations_per_second(model),
    )


@dataclass(frozen=True)
class Affordable:
    """The most concurrent users a monthly target buys, with the cheapest sized configuration for them."""

    users: int
    monthly: Decimal
    fleet: str
    floor: Decimal
    """What the tier costs with the smallest fleet its rules allow and almost no traffic."""


def users_within(
    target: Decimal,
    best: Candidate,
    base: Plan,
    model: TrafficModel,
    project_root: Path,
    prices: PriceTable,
    today: dt.date,
    rps_per_vcpu: Decimal = REQUESTS_PER_VCPU_SECOND,
    step: int = 100,
) -> Affordable:
    """Binary search, in steps of `step` users, for the largest number of concurrent users at peak whose cheapest
    sized fleet (the search's other levers kept) costs at most `target` a month at their traffic."""

    _, chosen, _ = best.chosen

    def cheapest(users: int) -> tuple[Decimal, str]:
        scaled = model.with_users(max(users, 1))
        options = []
        for instance_type in FLEET_TYPES[base.tier]:
            try:
                fleet = size_fleet(base, scaled, instance_type, rps_per_vcpu)
            except (SizingError, ValueError, UnknownVcpusError):
                continue
            levers = Levers(
                instance_type=instance_type,
                instances=fleet.levers.instances,
                max_instances=fleet.levers.max_instances,
                pods=fleet.levers.pods,
                max_pods=fleet.levers.max_pods,
                cache_node_type=chosen.cache_node_type,
                cdn_price_class=chosen.cdn_price_class,
                log_retention_days=chosen.log_retention_days,
            )
            total = price(patched(base, levers), scaled, project_root, prices, today).total
            options.append((total, fleet.describe()))
        return min(options)

    floor = cheapest(step)[0]
    low, high = 0, int(model.concurrent_users) // step
    if cheapest(high * step)[0] <= target:
        total, fleet = cheapest(high * step)
        return Affordable(high * step, total, fleet, floor)
    while low < high:
        middle = (low + high + 1) // 2
        if cheapest(middle * step)[0] <= target:
            low = middle
        else:
            high = middle - 1
    total, fleet = cheapest(low * step) if low else (floor, "")
    return Affordable(low * step, total, fleet, floor)
