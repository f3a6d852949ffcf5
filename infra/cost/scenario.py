"""A what-if on a tier's plan: another fleet, cache node, CDN price class or log retention, and the traffic of any
number of users, priced by the same estimator, price table and usage derivation as `cost`.

A plan takes seconds to build; an estimate of it takes milliseconds. So the finance report builds each tier's plan
once and prices variations of it: `patched` changes exactly the inputs a lever moves (the app fleet's size and
instance type, the EKS nodes, the cache node type, the distribution's price class, the log groups' retention) and
the plan's resolved config to match, and `price` derives the usage from the traffic model for that shape.
Structural levers (the NAT strategy, turning the CDN on) add or remove resources: those get a real plan. The
report checks that the patched plan of each tier's presets prices exactly as the real plan does.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from infra.capacity.traffic import TrafficModel, model_path
from infra.cost.estimate import estimate
from infra.cost.model import Estimate
from infra.cost.price_table import PriceTable
from infra.cost.traffic_usage import PlanShape, derive, flat_settings
from infra.cost.usage import Usage, parse_usage, read_usage_file, stack_usage_path
from infra.plan.document import Plan

APP_FLEET = "contentry:app_fleet:AppFleet"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ASG = "aws:autoscaling/group:Group"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"


@dataclass(frozen=True)
class Levers:
    """What the search may change on a tier, spelled as config keys take them."""

    instance_type: str
    instances: int
    """computeMinSize = computeDesiredSize: the app instances (tiers A, C) or EKS nodes (tier B)."""
    max_instances: int
    cache_node_type: str
    cdn_price_class: str
    log_retention_days: int
    pods: int | None = None
    """Tier B: podMinReplicas."""
    max_pods: int | None = None

    def settings(self) -> dict[str, str]:
        values = {
            "computeInstanceType": self.instance_type,
            "computeMinSize": str(self.instances),
            "computeDesiredSize": str(self.instances),
            "computeMaxSize": str(self.max_instances),
            "cacheNodeType": self.cache_node_type,
            "cdnPriceClass": self.cdn_price_class,
            "logRetentionDays": str(self.log_retention_days),
        }
        if self.pods is not None:
            values["podMinReplicas"] = str(self.pods)
        if self.max_pods is not None:
            values["podMaxReplicas"] = str(self.max_pods)
        return values

    def overrides(self) -> tuple[str, ...]:
        """`--set` overrides that give a real plan these levers."""
        return tuple(f"{key}={value}" for key, value in self.settings().items())


def _set_config(config: dict[str, Any], key: str, value: str) -> bool:
    """Set `key` wherever it sits in the plan's nested config, keeping the JSON type it had."""
    for name, current in config.items():
        if isinstance(current, dict) and _set_config(current, key, value):
            return True
        if name == key:
            config[name] = int(value) if isinstance(current, int) and not isinstance(current, bool) else value
            return True
    return False


def _app_fleet_urns(plan: Plan) -> set[str]:
    return {r["urn"] for r in plan.resources if r["type"] == APP_FLEET}


def patched(plan: Plan, levers: Levers) -> Plan:
    """`plan` as the program would plan it with `levers` (only the inputs the estimator reads)."""
    resources = copy.deepcopy(plan.resources)
    fleets = _app_fleet_urns(plan)
    for resource in resources:
        inputs, kind = resource["inputs"], resource["type"]
        if kind == ASG and resource.get("parent") in fleets:
            inputs.update(minSize=levers.instances, desiredCapacity=levers.instances, maxSize=levers.max_instances)
        elif kind == LAUNCH_TEMPLATE and resource.get("parent") in fleets:
            inputs["instanceType"] = levers.instance_type
        elif kind == NODE_GROUP:
            inputs["instanceTypes"] = [levers.instance_type]
            inputs["scalingConfig"] = {
                **inputs.get("scalingConfig", {}),
                "minSize": levers.instances,
                "desiredSize": levers.instances,
                "maxSize": levers.max_instances,
            }
        elif kind == CACHE:
            inputs["nodeType"] = levers.cache_node_type
        elif kind == DISTRIBUTION:
            inputs["priceClass"] = levers.cdn_price_class
        elif kind == LOG_GROUP:
            inputs["retentionInDays"] = levers.log_retention_days
        elif kind == HPA and levers.pods is not None:
            spec = inputs.setdefault("spec", {})
            spec["minReplicas"] = levers.pods
            if levers.max_pods is not None:
                spec["maxReplicas"] = levers.max_pods
    config = copy.deepcopy(plan.config)
    for key, value in levers.settings().items():
        _set_config(config, key, value)
    return replace(plan, resources=resources, config=config)


def usage_for(model: TrafficModel, shape: PlanShape, project_root: Path, stack: str) -> Usage:
    """The usage `cost` would read for this shape: the model's derivation in place of the tier file, then the
    stack's own file."""
    layers = [parse_usage(derive(model, shape).document(), f"derived from {model_path(shape.tier)}")]
    stack_file = stack_usage_path(project_root, stack)
    if stack_file.is_file():
        layers.append(read_usage_file(stack_file, origin=f"usage/{stack_file.name}"))
    return Usage(tuple(layers))


def shape_of(plan: Plan) -> PlanShape:
    return PlanShape.of_settings(plan.tier, flat_settings(plan.config))


def price(
    plan: Plan,
    model: TrafficModel,
    project_root: Path,
    prices: PriceTable,
    today: dt.date,
    settings: Mapping[str, str] | None = None,
) -> Estimate:
    """The estimate of `plan` carrying `model`'s traffic (its shape read from the plan's own config)."""
    shape = shape_of(plan)
    if settings:
        shape = PlanShape.of_settings(plan.tier, {**flat_settings(plan.config), **settings})
    return estimate(plan, usage_for(model, shape, project_root, plan.stack), prices, today)
