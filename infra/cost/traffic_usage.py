"""The usage files, derived from the traffic model: what each priced resource type sees in a month when the tier
carries its model's traffic. One derivation serves the committed tier files (`infra/cost/usage/tier-*.yaml`,
written by `python -m infra.cost.traffic_usage --write`; tests/cost fail when they drift) and every what-if the
finance report prices (another fleet, another retention, another number of users).

A resource type's keys apply to every resource of that type in the plan, so the per-resource amounts divide the
tier's totals by how many there are (the NAT gateways), and `byName` patterns single out the buckets and log
groups the program names (`*upload*`, `*flow*`). Only patterns the tier's plan has are written: a pattern that
matches nothing would be a warning.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from infra.capacity.traffic import (
    HOURS_PER_MONTH,
    EndpointClass,
    TrafficModel,
    average_lcu,
    gigabytes,
    model_path,
    monthly_access_log_gb,
    monthly_alb_log_gb,
    monthly_cache_gb,
    monthly_database_gb,
    monthly_database_results_gb,
    monthly_flow_log_gb,
    monthly_jobs,
    monthly_media_downloads,
    monthly_media_gb,
    monthly_quarantined,
    monthly_requests,
    monthly_requests_of,
    monthly_response_gb,
    monthly_thumbnails,
    monthly_upload_gb,
    monthly_uploads,
    monthly_worker_log_gb,
    stored_thumbnail_gb,
    traffic_model,
)
from infra.config.presets import TIER_PRESETS

USAGE_DIR = Path(__file__).resolve().parent / "usage"
REGENERATE = "python -m infra.cost.traffic_usage --write"
HOURS_PER_DAY = Decimal(24)
UPLOAD_RECENT_DAYS = Decimal(30)
"""The uploads bucket's lifecycle moves files above 128 KB to Standard-IA after 30 days."""
# Resource types the tiers' plans price with usage.
LB = "aws:lb/loadBalancer:LoadBalancer"
NAT = "aws:ec2/natGateway:NatGateway"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
PEERING = "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
ATLAS_PEERING = "mongodbatlas:index/networkPeering:NetworkPeering"
ATLAS_CLUSTER = "mongodbatlas:index/advancedCluster:AdvancedCluster"
CDN = "aws:cloudfront/distribution:Distribution"
BUCKET = "aws:s3/bucket:Bucket"
REGISTRY = "aws:ecr/repository:Repository"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
WAF = "aws:wafv2/webAcl:WebAcl"
KMS = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 - a resource type, not a password
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
TOPIC = "aws:sns/topic:Topic"
TRAIL = "aws:cloudtrail/trail:Trail"
ALERT_DELIVERIES = ("emailNotifications", "httpsNotifications")
"""The alert topic's subscriptions: each alert is delivered once to each."""


@dataclass(frozen=True)
class PlanShape:
    """What the usage depends on besides the traffic: the settings that decide how many of a resource there are,
    where traffic crosses AZs, and how long logs are kept."""

    tier: str
    az_count: int
    nat_strategy: str
    log_retention_days: int
    cdn_enabled: bool
    instances: int
    """App instances (tiers A, C) or EKS nodes (tier B) at their desired size: the NAT's baseline traffic."""
    cache_replicas: int
    worker_hosts: int = 0
    """The job workers' own instances at their minimum (tiers A and C, workerPlacement dedicated); 0 when the
    workers run on the app instances (colocated) or as pods (tier B)."""

    @property
    def worker_log_group(self) -> str:
        """Where the job workers' lines land: their fleet's own group, else the app's (same hosts or cluster)."""
        return "*worker-fleet-logs*" if self.worker_hosts else self.app_log_group

    @property
    def app_logs_in_cloudwatch(self) -> bool:
        """Every tier ships the app's output to CloudWatch Logs over the NAT: tiers A and C through the CloudWatch
        agent, tier B through Container Insights' Fluent Bit."""
        return True

    @property
    def app_log_group(self) -> str:
        """The log group the app's access lines land in."""
        return "*container-insights-application*" if self.tier == "B" else "*app-fleet-logs*"

    @property
    def nat_gateways(self) -> int:
        return {"one-per-az": self.az_count, "single": 1}.get(self.nat_strategy, 0)

    @property
    def cross_az_share(self) -> Decimal:
        """Traffic to a single endpoint in one AZ (the cache primary, the Atlas primary) from a fleet spread over
        every AZ: all but one AZ's share crosses."""
        return Decimal(self.az_count - 1) / self.az_count

    @classmethod
    def of_settings(cls, tier: str, settings: Mapping[str, str]) -> PlanShape:
        """From config values as `pulumi config` spells them (the tier's presets, or a plan's resolved config)."""
        instances_key = "computeDesiredSize"
        dedicated = tier != "B" and settings.get("workerPlacement", "dedicated") == "dedicated"
        return cls(
            tier=tier,
            az_count=int(settings["azCount"]),
            nat_strategy=str(settings["natStrategy"]),
            log_retention_days=int(settings["logRetentionDays"]),
            cdn_enabled=str(settings["cdnEnabled"]).lower() == "true",
            instances=int(settings[instances_key]),
            cache_replicas=int(settings["cacheReplicas"]),
            worker_hosts=int(settings["workerMinSize"]) if dedicated else 0,
        )

    @classmethod
    def of_tier(cls, tier: str) -> PlanShape:
        return cls.of_settings(tier, TIER_PRESETS[tier])  # type: ignore[index]


def flat_settings(config: Mapping[str, Any]) -> dict[str, str]:
    """A plan's resolved config (nested by section, keyed like `pulumi config`) as one flat mapping of strings."""
    flat: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            flat.update(flat_settings(value))
        else:
            flat[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return flat


@dataclass(frozen=True)
class Entry:
    type: str
    key: str
    value: Decimal
    why: str
    pattern: str | None = None


@dataclass
class Derivation:
    entries: list[Entry] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    """A comment for a type (the first line above its block)."""

    def add(self, type_token: str, key: str, value: Decimal, why: str, pattern: str | None = None) -> None:
        self.entries.append(Entry(type_token, key, value, why, pattern))

    def document(self) -> dict[str, Any]:
        """The usage document `infra.cost.usage.parse_usage` reads."""
        document: dict[str, Any] = {"version": 1}
        for entry in self.entries:
            block = document.setdefault(entry.type, {})
            if entry.pattern is not None:
                block = block.setdefault("byName", {}).setdefault(entry.pattern, {})
            block[entry.key] = shown(entry.value)
        return document


def shown(value: Decimal) -> int | float:
    """The number as the file holds it: whole above 100, else to two decimals (usage is an estimate; more digits
    would only be noise in the diff of a regenerated file)."""
    if value >= 100:
        return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def _kept(monthly_gb: Decimal, days: int) -> Decimal:
    """GB held at steady state by a store that keeps `days` days of `monthly_gb` a month (a month of 730 hours)."""
    return monthly_gb * days * HOURS_PER_DAY / HOURS_PER_MONTH


def _k(value: Decimal) -> str:
    return f"{value:,.0f}"


def derive(model: TrafficModel, shape: PlanShape) -> Derivation:
    """Every usage key the tier's plan prices, with the arithmetic behind it."""
    doc = model.document
    out = Derivation()
    requests = monthly_requests(model)
    million = _k(requests / 1_000_000)

    lcu = average_lcu(model)
    out.add(LB, "lcuPerHour", lcu.billed, f"the largest LCU dimension at the average hour: {lcu.dominant}")
    out.add(LB, "internetEgressGb", monthly_response_gb(model), f"{million} M API responses a month")

    worker_logs = monthly_worker_log_gb(model)
    log_shipping = monthly_access_log_gb(model) + worker_logs if shape.app_logs_in_cloudwatch else Decimal(0)
    hosts = shape.instances + shape.worker_hosts
    nat_total = hosts * doc.baseline.nat_gb_per_instance.value + log_shipping
    gateways = shape.nat_gateways
    if gateways:
        out.add(
            NAT,
            "dataProcessedGb",
            nat_total / gateways,
            f"per gateway ({gateways}): {hosts} instances' updates and API calls, plus the app's and the job "
            "workers' logs shipped to CloudWatch Logs",
        )
        crossing = nat_total * shape.cross_az_share if gateways == 1 and shape.az_count > 1 else Decimal(0)
        out.add(
            NAT,
            "crossAzGb",
            crossing,
            "the other AZs' traffic to the single gateway crosses AZs" if crossing else "each AZ uses its own gateway",
        )
    out.add(ENDPOINT, "dataProcessedGb", Decimal(0), "the plan has no interface endpoint (S3's is a free gateway)")

    database = monthly_database_gb(model)
    out.add(
        PEERING,
        "crossAzGb",
        database * shape.cross_az_share,
        "app <-> Atlas (reads that miss the cache, writes): the part from AZs other than the primary's",
    )
    out.add(
        ATLAS_PEERING,
        "dataTransferGb",
        monthly_database_results_gb(model),
        "what Atlas sends the app (query results); Atlas bills data leaving its nodes, not arriving",
    )
    out.add(
        ATLAS_CLUSTER,
        "backupStorageGb",
        doc.storage.database_gb.value * doc.storage.backup_multiple.value,
        "the data x what the backup policy keeps in incremental snapshots",
    )

    downloads, media_gb = monthly_media_downloads(model), monthly_media_gb(model)
    media = doc.media
    out.add(CDN, "dataOutGb", media_gb, f"{_k(downloads / 1_000_000)} M media downloads a month")
    out.add(CDN, "httpsRequests", downloads, "one request per media download")
    out.add(CDN, "europeShare", media.europe_share.value, "viewers in Europe")
    out.add(CDN, "asiaPacificShare", media.asia_pacific_share.value, "viewers in Asia Pacific")

    _buckets(out, model, shape, requests, downloads, media_gb)
    out.add(REGISTRY, "storageGb", doc.storage.images_gb.value, doc.storage.images_gb.basis)

    out.add(LOG_GROUP, "ingestedGb", Decimal(1), "any other group: boot and agent logs")
    groups = [("*flow*", monthly_flow_log_gb(model), "VPC flow logs: two records a minute per open connection")]
    if shape.app_logs_in_cloudwatch:
        line = f"one access line a request ({doc.logs.access_line_bytes.value} bytes) x {million} M requests"
        jobs = doc.jobs
        job_lines = (
            f"{jobs.state_changes_per_job.value} lines of {jobs.worker_log_line_bytes.value} bytes per job x "
            f"{_k(monthly_jobs(model) / 1_000_000)} M jobs (uploads and fan-outs)"
        )
        if shape.worker_log_group == shape.app_log_group:
            both = monthly_access_log_gb(model) + worker_logs
            groups.insert(0, (shape.app_log_group, both, f"{line}; the workers' {job_lines}"))
        else:
            groups.insert(0, (shape.worker_log_group, worker_logs, f"the job workers: {job_lines}"))
            groups.insert(0, (shape.app_log_group, monthly_access_log_gb(model), line))
    if doc.logs.control_plane_gb.value:
        groups.append(("*cluster-logs*", doc.logs.control_plane_gb.value, "the EKS control plane's logs"))
    if doc.logs.container_insights_performance_gb.value:
        performance = doc.logs.container_insights_performance_gb
        groups.append(("*container-insights-performance*", performance.value, performance.basis))
    logged, record = doc.logs.firewall_logged_share.value, doc.logs.firewall_line_bytes.value
    for pattern, count, what in (("*alb-firewall-logs*", requests, "API"), ("*cdn-firewall-logs*", downloads, "CDN")):
        why = f"the {what} web ACL logs {logged:.0%} of {_k(count / 1_000_000)} M requests x {record} bytes"
        groups.append((pattern, gigabytes(count * logged * record), why))
    archived, days = doc.logs.archived_share.value, shape.log_retention_days
    for pattern, ingested, why in groups:
        out.add(LOG_GROUP, "ingestedGb", ingested, why, pattern)
        out.add(
            LOG_GROUP,
            "storedGb",
            _kept(ingested, days) * archived,
            f"{days} days kept, archived compressed to {archived:.0%} of the ingested volume",
            pattern,
        )

    out.add(WAF, "requests", requests, "every API request passes the web ACL, when the plan has one")
    out.add(WAF, "requests", downloads, "every CloudFront request passes the CDN's web ACL", "*cdn*")
    out.add(KMS, "requests", doc.baseline.kms_requests.value, doc.baseline.kms_requests.basis)
    alerts = doc.baseline.alerts_per_month
    out.add(TOPIC, "publishes", alerts.value, alerts.basis)
    for key in ALERT_DELIVERIES:
        out.add(TOPIC, key, alerts.value, "each alert delivered once to each of the topic's subscriptions")
    kms_calls = alerts.value * (1 + len(ALERT_DELIVERIES))
    out.add(
        KMS,
        "requests",
        kms_calls,
        "the alert topic's key: a data key per publish, a decrypt per delivery",
        "*alerts-key*",
    )
    trail = doc.baseline.additional_trail_events
    out.add(TRAIL, "additionalCopyEvents", trail.value, trail.basis)
    out.add(SECRET, "apiRequests", doc.baseline.secret_requests.value, doc.baseline.secret_requests.basis)

    out.add(CACHE, "snapshotSizeGb", doc.storage.cache_working_set_gb.value, "a snapshot is about the working set")
    replication = gigabytes(
        monthly_requests_of(model, EndpointClass.DATABASE_READ) * doc.response_bytes.database_read.value
    )
    crossing = monthly_cache_gb(model) * shape.cross_az_share + (replication if shape.cache_replicas else Decimal(0))
    out.add(CACHE, "crossAzGb", crossing, "app <-> cache from other AZs than the primary's, plus the SETs replicated")
    return out


def _buckets(
    out: Derivation, model: TrafficModel, shape: PlanShape, requests: Decimal, downloads: Decimal, media_gb: Decimal
) -> None:
    doc = model.document
    uploads = doc.uploads
    out.add(BUCKET, "storageGb", Decimal(20), "any bucket not matched below: small")
    out.add(BUCKET, "putRequests", Decimal(100_000), "any bucket not matched below")
    out.add(BUCKET, "getRequests", Decimal(10_000), "any bucket not matched below")
    out.add(BUCKET, "internetEgressGb", Decimal(0), "any bucket not matched below")

    files = doc.storage.files_gb.value
    recent = min(files, monthly_upload_gb(model) * UPLOAD_RECENT_DAYS * HOURS_PER_DAY / HOURS_PER_MONTH)
    mean_kb = (1 - uploads.large_share.value) * uploads.small_object_kb.value + (
        uploads.large_share.value * uploads.large_object_kb.value
    )
    large_bytes = uploads.large_share.value * uploads.large_object_kb.value / mean_kb
    infrequent = (files - recent) * large_bytes
    gets = downloads * (1 - doc.media.cdn_hit_ratio.value) if shape.cdn_enabled else downloads
    older_large_gets = gets * doc.media.older_share.value * uploads.large_share.value
    put = "*upload*"
    thumbnails, quarantined = monthly_thumbnails(model), monthly_quarantined(model)
    out.add(
        BUCKET,
        "storageGb",
        files - infrequent + stored_thumbnail_gb(model),
        "the last 30 days' files and the older small ones, and the jobs' thumbnails of the stored images",
        put,
    )
    out.add(BUCKET, "infrequentAccessStorageGb", infrequent, "files above 128 KB older than 30 days", put)
    out.add(
        BUCKET,
        "lifecycleTransitions",
        monthly_uploads(model) * uploads.large_share.value,
        "large files moved a month",
        put,
    )
    out.add(
        BUCKET,
        "putRequests",
        monthly_uploads(model) + thumbnails + quarantined,
        "one PUT (presigned POST) per upload; the upload job's PUT of each thumbnail and COPY of each quarantined file"
        " (its DELETE is free)",
        put,
    )
    out.add(
        BUCKET,
        "getRequests",
        gets - older_large_gets + monthly_uploads(model),
        ("CloudFront's misses" if shape.cdn_enabled else "every download (no CDN)")
        + "; the upload job's GET of each new file",
        put,
    )
    out.add(BUCKET, "infrequentAccessGetRequests", older_large_gets, "downloads of older large files", put)
    out.add(
        BUCKET,
        "infrequentAccessRetrievalGb",
        older_large_gets * uploads.large_object_kb.value * 1000 / (2**30),
        "their bytes read back from Standard-IA",
        put,
    )
    out.add(
        BUCKET,
        "internetEgressGb",
        Decimal(0) if shape.cdn_enabled else media_gb,
        "viewers download through CloudFront" if shape.cdn_enabled else "media leave S3 for the internet (no CDN)",
        put,
    )

    days, logs = shape.log_retention_days, doc.logs
    alb = monthly_alb_log_gb(model)
    deliveries = logs.deliveries_per_minute.value * 60 * HOURS_PER_MONTH
    out.add(
        BUCKET, "storageGb", _kept(alb, days), f"the ALB's gzip access logs, {days} days kept", "*load-balancer-logs*"
    )
    out.add(
        BUCKET,
        "putRequests",
        Decimal(shape.az_count * 12) * HOURS_PER_MONTH,
        "each ALB node writes a file every 5 minutes",
        "*load-balancer-logs*",
    )
    out.add(BUCKET, "getRequests", Decimal(1000), "reading logs back is rare", "*load-balancer-logs*")
    out.add(BUCKET, "internetEgressGb", Decimal(0), "logs stay in AWS", "*load-balancer-logs*")
    s3_requests = monthly_uploads(model) * 2 + thumbnails + quarantined * 2 + gets
    access_gb = gigabytes(s3_requests * logs.s3_access_line_bytes.value)
    cdn_gb = gigabytes(downloads * logs.cdn_line_bytes.value) / logs.compression_ratio.value if shape.cdn_enabled else 0
    sources = 2 if shape.cdn_enabled else 1
    out.add(
        BUCKET,
        "storageGb",
        _kept(access_gb + Decimal(cdn_gb), days),
        f"S3 server access logs{' and CloudFront standard logs' if shape.cdn_enabled else ''}, {days} days kept",
        "*files-logs*",
    )
    out.add(BUCKET, "putRequests", deliveries * sources, "many small log objects", "*files-logs*")
    out.add(BUCKET, "getRequests", Decimal(1000), "reading logs back is rare", "*files-logs*")
    out.add(BUCKET, "internetEgressGb", Decimal(0), "logs stay in AWS", "*files-logs*")


def render(model: TrafficModel, shape: PlanShape, derivation: Derivation | None = None) -> str:
    """The usage file's text: every number with the arithmetic that gave it."""
    derivation = derivation or derive(model, shape)
    lines = [
        f"# Usage of tier {shape.tier} at its traffic model ({model_path(shape.tier)}),",
        f"# GENERATED by `{REGENERATE}`: do not edit. Change the model (or the tier's presets), then",
        "# regenerate; tests/cost fail while this file",
        "# differs from what the model gives. A stack overrides a key in usage/<stack>.yaml only for a measured",
        "# figure, never for traffic the fleet is sized from (tests/cost/test_traffic_usage.py checks the stacks).",
        f"# Shape: {shape.az_count} AZs, NAT {shape.nat_strategy}, logs kept {shape.log_retention_days} days, "
        f"CDN {'on' if shape.cdn_enabled else 'off'}, {shape.instances} instances or nodes.",
        "version: 1",
    ]
    by_type: dict[str, list[Entry]] = {}
    for entry in derivation.entries:
        by_type.setdefault(entry.type, []).append(entry)
    for type_token, entries in by_type.items():
        lines += ["", f"{type_token}:"]
        lines += [_line(entry, 1) for entry in entries if entry.pattern is None]
        patterns = list(dict.fromkeys(entry.pattern for entry in entries if entry.pattern is not None))
        if patterns:
            lines.append("  byName:")
            for pattern in patterns:
                lines.append(f'    "{pattern}":')
                lines += [_line(entry, 3) for entry in entries if entry.pattern == pattern]
    return "\n".join(lines) + "\n"


def _line(entry: Entry, depth: int) -> str:
    why = " ".join(entry.why.split())
    return f"{'  ' * depth}{entry.key}: {shown(entry.value)}  # {why}"


def tier_file(tier: str) -> Path:
    return USAGE_DIR / f"tier-{tier}.yaml"


def generated(tier: str) -> str:
    return render(traffic_model(tier), PlanShape.of_tier(tier))


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.cost.traffic_usage", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="rewrite infra/cost/usage/tier-*.yaml")
    action.add_argument("--check", action="store_true", help="exit 1 when a tier file differs from its model")
    args = parser.parse_args(list(argv) if argv is not None else None)
    stale = []
    for tier in ("A", "B", "C"):
        text, path = generated(tier), tier_file(tier)
        if args.write:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        elif not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(str(path))
    if stale:
        print(f"{', '.join(stale)} differ from the traffic model: run `{REGENERATE}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
