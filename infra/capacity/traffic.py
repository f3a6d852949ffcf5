"""The traffic model: one versioned file per tier (`infra/capacity/traffic/tier-<A|B|C>.yaml`) and the pure
functions that turn it into rates, monthly volumes, load balancer capacity units, CDN and NAT traffic.

Every figure in a model file is a `{value, basis}` pair: the basis says where the value comes from (a source,
the committed benchmark, or an assumption with its reasoning), so finance can challenge each one. Everything
the fleet is sized for and everything the bill is priced at comes from here (infra.capacity.sizing; the usage
files are generated from it by `python -m infra.cost.traffic_usage --write`).

Units: rates per second, volumes per month of 730 hours (the price table's month), bytes as the app sends
them (no compression: neither the app nor the ALB compresses responses), GB as AWS bills data: 2^30 bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from infra.capacity.alb_lcu import (
    ACTIVE_CONNECTIONS_PER_LCU,
    FREE_RULE_EVALUATIONS_PER_REQUEST,
    NEW_CONNECTIONS_PER_SECOND_PER_LCU,
    PROCESSED_GB_PER_HOUR_PER_LCU,
    RULE_EVALUATIONS_PER_SECOND_PER_LCU,
)

SCHEMA_VERSION: Final = 1
HOURS_PER_MONTH: Final = Decimal(730)
SECONDS_PER_HOUR: Final = Decimal(3600)
BYTES_PER_GB: Final = Decimal(2**30)
"""AWS bills data transfer and storage in GB of 2^30 bytes."""
TIERS: Final = ("A", "B", "C")


class EndpointClass(StrEnum):
    """What a request costs the app, the database and the cache: the classes the model's mix is made of."""

    CACHED_READ = "cachedRead"
    """GET /api/posts answered from Redis: one cache GET."""
    DATABASE_READ = "databaseRead"
    """GET /api/posts that misses the cache: one MongoDB query, then one cache SET."""
    WRITE = "write"
    """A write (a post, a credit transaction): one MongoDB write and a cache invalidation."""
    UPLOAD_PRESIGN = "uploadPresign"
    """POST /api/uploads: a bearer token checked, an S3 POST policy and a download URL signed (no I/O)."""


class TrafficModelError(ValueError):
    """A model file that cannot be used: the message names the file, the key and what is allowed."""


def _decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"must be a number (got {value!r})")
    try:
        # Through str(): YAML's 0.55 is a float, and str(0.55) is the digits the file holds.
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"'{value}' is not a number") from None


_Strict = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Figure(BaseModel):
    """One number of the model and why it is what it is."""

    model_config = _Strict
    value: Decimal
    basis: str = Field(min_length=12)
    """Its source (a document, the committed benchmark) or, for an assumption, the reasoning behind it."""

    @field_validator("value", mode="before")
    @classmethod
    def _number(cls, value: object) -> Decimal:
        return _decimal(value)


class _Users(BaseModel):
    model_config = _Strict
    concurrent_at_peak: Figure = Field(alias="concurrentAtPeak")
    concurrent_range: tuple[int, int] | None = Field(default=None, alias="concurrentRange")
    """The tier's stated range of concurrent users (tier C: 10,000-20,000); sized for its top."""
    requests_per_minute: Figure = Field(alias="requestsPerMinute")
    peak_to_average: Figure = Field(alias="peakToAverage")


class _PerClass(BaseModel):
    model_config = _Strict
    cached_read: Figure = Field(alias="cachedRead")
    database_read: Figure = Field(alias="databaseRead")
    write: Figure
    upload_presign: Figure = Field(alias="uploadPresign")

    def of(self, endpoint: EndpointClass) -> Figure:
        return {
            EndpointClass.CACHED_READ: self.cached_read,
            EndpointClass.DATABASE_READ: self.database_read,
            EndpointClass.WRITE: self.write,
            EndpointClass.UPLOAD_PRESIGN: self.upload_presign,
        }[endpoint]


class _Connections(BaseModel):
    model_config = _Strict
    per_user: Figure = Field(alias="perUser")
    lifetime_seconds: Figure = Field(alias="lifetimeSeconds")
    rule_evaluations_per_request: Figure = Field(alias="ruleEvaluationsPerRequest")


class _Media(BaseModel):
    model_config = _Strict
    downloads_per_user_per_minute: Figure = Field(alias="downloadsPerUserPerMinute")
    object_kb: Figure = Field(alias="objectKb")
    cdn_hit_ratio: Figure = Field(alias="cdnHitRatio")
    europe_share: Figure = Field(alias="europeShare")
    asia_pacific_share: Figure = Field(alias="asiaPacificShare")
    older_share: Figure = Field(alias="olderShare")


class _Uploads(BaseModel):
    model_config = _Strict
    completed_share: Figure = Field(alias="completedShare")
    large_share: Figure = Field(alias="largeShare")
    small_object_kb: Figure = Field(alias="smallObjectKb")
    large_object_kb: Figure = Field(alias="largeObjectKb")


class _Storage(BaseModel):
    model_config = _Strict
    files_gb: Figure = Field(alias="filesGb")
    database_gb: Figure = Field(alias="databaseGb")
    backup_multiple: Figure = Field(alias="backupMultiple")
    cache_working_set_gb: Figure = Field(alias="cacheWorkingSetGb")
    images_gb: Figure = Field(alias="imagesGb")


class _Database(BaseModel):
    model_config = _Strict
    bytes_per_read: Figure = Field(alias="bytesPerRead")
    bytes_per_write: Figure = Field(alias="bytesPerWrite")


class _Logs(BaseModel):
    model_config = _Strict
    access_line_bytes: Figure = Field(alias="accessLineBytes")
    alb_line_bytes: Figure = Field(alias="albLineBytes")
    compression_ratio: Figure = Field(alias="compressionRatio")
    archived_share: Figure = Field(alias="archivedShare")
    flow_record_bytes: Figure = Field(alias="flowRecordBytes")
    s3_access_line_bytes: Figure = Field(alias="s3AccessLineBytes")
    cdn_line_bytes: Figure = Field(alias="cdnLineBytes")
    deliveries_per_minute: Figure = Field(alias="deliveriesPerMinute")
    control_plane_gb: Figure = Field(alias="controlPlaneGb")
    firewall_logged_share: Figure = Field(alias="firewallLoggedShare")
    firewall_line_bytes: Figure = Field(alias="firewallLineBytes")
    container_insights_performance_gb: Figure = Field(alias="containerInsightsPerformanceGb")


class _Baseline(BaseModel):
    """Small volumes that do not follow the traffic: updates, secret reads, key requests."""

    model_config = _Strict
    nat_gb_per_instance: Figure = Field(alias="natGbPerInstance")
    secret_requests: Figure = Field(alias="secretRequests")
    kms_requests: Figure = Field(alias="kmsRequests")
    alerts_per_month: Figure = Field(alias="alertsPerMonth")
    additional_trail_events: Figure = Field(alias="additionalTrailEvents")


class _Jobs(BaseModel):
    """The background jobs (issue 16): what the workers do a month, beside the API's traffic."""

    model_config = _Strict
    fanout_jobs_per_user_per_month: Figure = Field(alias="fanoutJobsPerUserPerMonth")
    """Notification fan-out jobs a month per concurrent user at the peak (every completed upload is a job too)."""
    state_changes_per_job: Figure = Field(alias="stateChangesPerJob")
    """Log lines a job leaves in the worker's log: one per state change (the worker logs no access lines)."""
    worker_log_line_bytes: Figure = Field(alias="workerLogLineBytes")
    thumbnail_share: Figure = Field(alias="thumbnailShare")
    """Uploads that are images and get a thumbnail."""
    thumbnail_kb: Figure = Field(alias="thumbnailKb")
    quarantined_share: Figure = Field(alias="quarantinedShare")
    """Uploads whose bytes contradict their declared type: copied to the quarantine prefix, the original deleted."""


class _ModelFile(BaseModel):
    model_config = _Strict
    schema_version: int = Field(alias="schemaVersion")
    tier: str
    description: str
    users: _Users
    mix: _PerClass
    response_bytes: _PerClass = Field(alias="responseBytes")
    request_bytes: Figure = Field(alias="requestBytes")
    cache_calls: _PerClass = Field(alias="cacheCalls")
    connections: _Connections
    media: _Media
    uploads: _Uploads
    storage: _Storage
    database: _Database
    logs: _Logs
    baseline: _Baseline
    jobs: _Jobs


@dataclass(frozen=True)
class TrafficModel:
    """A tier's model, validated: shares add up, ratios are ratios, every figure has its basis."""

    origin: str
    document: _ModelFile

    @property
    def tier(self) -> str:
        return self.document.tier

    @property
    def concurrent_users(self) -> Decimal:
        return self.document.users.concurrent_at_peak.value

    def figures(self) -> dict[str, Figure]:
        """Every figure by its dotted key (`users.requestsPerMinute`), for the report and the tests."""
        found: dict[str, Figure] = {}

        def walk(node: BaseModel, prefix: str) -> None:
            for name, info in type(node).model_fields.items():
                child = getattr(node, name)
                key = f"{prefix}{info.alias or name}"
                if isinstance(child, Figure):
                    found[key] = child
                elif isinstance(child, BaseModel):
                    walk(child, f"{key}.")

        walk(self.document, "")
        return found

    def with_users(self, concurrent_at_peak: int | Decimal) -> TrafficModel:
        """The same model for another number of concurrent users at peak (what a budget buys)."""
        users = self.document.users.model_copy(
            update={
                "concurrent_at_peak": Figure(
                    value=Decimal(concurrent_at_peak), basis=f"what-if: {concurrent_at_peak} concurrent users at peak"
                )
            }
        )
        return TrafficModel(self.origin, self.document.model_copy(update={"users": users}))


def _check(document: _ModelFile, origin: str, tier: str | None) -> None:
    problems = []
    if document.schema_version != SCHEMA_VERSION:
        problems.append(f"schemaVersion {document.schema_version} is not supported (this code reads {SCHEMA_VERSION})")
    if tier is not None and document.tier != tier:
        problems.append(f"tier: the file says {document.tier!r}, but it is tier {tier}'s model")
    shares = [document.mix.of(endpoint).value for endpoint in EndpointClass]
    if sum(shares) != 1:
        problems.append(f"mix: the shares add up to {sum(shares)}, not 1")
    for name, figure in {
        "mix": min(shares),
        "media.cdnHitRatio": document.media.cdn_hit_ratio.value,
        "media.olderShare": document.media.older_share.value,
        "logs.archivedShare": document.logs.archived_share.value,
        "uploads.completedShare": document.uploads.completed_share.value,
        "uploads.largeShare": document.uploads.large_share.value,
    }.items():
        if not 0 <= figure <= 1:
            problems.append(f"{name}: {figure} is not a share between 0 and 1")
    if document.media.europe_share.value + document.media.asia_pacific_share.value > 1:
        problems.append("media: europeShare + asiaPacificShare is more than 1")
    if document.users.peak_to_average.value < 1:
        problems.append("users.peakToAverage: the peak is never below the average (at least 1)")
    if document.users.concurrent_at_peak.value <= 0 or document.users.requests_per_minute.value <= 0:
        problems.append("users: concurrentAtPeak and requestsPerMinute must be positive")
    if problems:
        raise TrafficModelError(f"{origin}: " + "; ".join(problems))


def parse_traffic_model(raw: Any, origin: str, tier: str | None = None) -> TrafficModel:
    try:
        document = _ModelFile.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise TrafficModelError(f"{origin}: {problems}") from None
    _check(document, origin, tier)
    return TrafficModel(origin, document)


def model_path(tier: str) -> str:
    return f"infra/capacity/traffic/tier-{tier}.yaml"


@cache
def traffic_model(tier: str) -> TrafficModel:
    """The packaged model of `tier` (A, B or C)."""
    if tier not in TIERS:
        raise TrafficModelError(f"no traffic model for tier {tier!r}; tiers: {', '.join(TIERS)}")
    text = resources.files("infra.capacity").joinpath("traffic", f"tier-{tier}.yaml").read_text(encoding="utf-8")
    return parse_traffic_model(yaml.safe_load(text), model_path(tier), tier)


def load_traffic_model(path: Path, tier: str | None = None) -> TrafficModel:
    return parse_traffic_model(yaml.safe_load(path.read_text(encoding="utf-8")), str(path), tier)


# The rates.
def peak_rps(model: TrafficModel) -> Decimal:
    """API requests per second at the peak: concurrent users x requests each makes a minute / 60."""
    users = model.document.users
    return users.concurrent_at_peak.value * users.requests_per_minute.value / 60


def average_rps(model: TrafficModel) -> Decimal:
    return peak_rps(model) / model.document.users.peak_to_average.value


def average_concurrent_users(model: TrafficModel) -> Decimal:
    return model.concurrent_users / model.document.users.peak_to_average.value


def monthly_requests(model: TrafficModel) -> Decimal:
    """API requests in a month of 730 hours, at the average rate."""
    return average_rps(model) * SECONDS_PER_HOUR * HOURS_PER_MONTH


def monthly_requests_of(model: TrafficModel, endpoint: EndpointClass) -> Decimal:
    return monthly_requests(model) * model.document.mix.of(endpoint).value


def peak_rps_of(model: TrafficModel, endpoint: EndpointClass) -> Decimal:
    return peak_rps(model) * model.document.mix.of(endpoint).value


def mean_response_bytes(model: TrafficModel) -> Decimal:
    """Bytes of the average response, weighted by the mix."""
    document = model.document
    return sum((document.mix.of(e).value * document.response_bytes.of(e).value for e in EndpointClass), Decimal(0))


def gigabytes(byte_count: Decimal) -> Decimal:
    return byte_count / BYTES_PER_GB


def monthly_response_gb(model: TrafficModel) -> Decimal:
    """What the API sends its users in a month: the load balancer's internet egress."""
    return gigabytes(monthly_requests(model) * mean_response_bytes(model))


def monthly_request_gb(model: TrafficModel) -> Decimal:
    return gigabytes(monthly_requests(model) * model.document.request_bytes.value)


# Application Load Balancer capacity units.
@dataclass(frozen=True)
class LcuDimensions:
    """The four dimensions an Application Load Balancer bills, each already in LCUs; AWS bills the largest each
    hour (infra.capacity.alb_lcu cites the per-LCU figures)."""

    new_connections: Decimal
    active_connections: Decimal
    processed_bytes: Decimal
    rule_evaluations: Decimal

    @property
    def billed(self) -> Decimal:
        return max(self.new_connections, self.active_connections, self.processed_bytes, self.rule_evaluations)

    @property
    def dominant(self) -> str:
        values = {
            "new connections": self.new_connections,
            "active connections": self.active_connections,
            "processed bytes": self.processed_bytes,
            "rule evaluations": self.rule_evaluations,
        }
        return max(values, key=lambda name: values[name])


def lcu_at(model: TrafficModel, rps: Decimal, concurrent_users: Decimal) -> LcuDimensions:
    """The LCUs of one hour at `rps` requests a second from `concurrent_users` users."""
    connections = model.document.connections
    open_connections = concurrent_users * connections.per_user.value
    new_per_second = open_connections / connections.lifetime_seconds.value
    bytes_per_hour = rps * SECONDS_PER_HOUR * (mean_response_bytes(model) + model.document.request_bytes.value)
    billed_rules = max(Decimal(0), connections.rule_evaluations_per_request.value - FREE_RULE_EVALUATIONS_PER_REQUEST)
    return LcuDimensions(
        new_connections=new_per_second / NEW_CONNECTIONS_PER_SECOND_PER_LCU,
        active_connections=open_connections / ACTIVE_CONNECTIONS_PER_LCU,
        processed_bytes=gigabytes(bytes_per_hour) / PROCESSED_GB_PER_HOUR_PER_LCU,
        rule_evaluations=rps * billed_rules / RULE_EVALUATIONS_PER_SECOND_PER_LCU,
    )


def peak_lcu(model: TrafficModel) -> LcuDimensions:
    return lcu_at(model, peak_rps(model), model.concurrent_users)


def average_lcu(model: TrafficModel) -> LcuDimensions:
    """Every dimension follows the traffic, so the largest one at the average hour is the month's average of the
    hourly maximum: the LCU-hours billed a month are this x 730."""
    return lcu_at(model, average_rps(model), average_concurrent_users(model))


# The CDN, uploads and the database.
def monthly_media_downloads(model: TrafficModel) -> Decimal:
    media = model.document.media
    return average_concurrent_users(model) * media.downloads_per_user_per_minute.value * 60 * HOURS_PER_MONTH


def monthly_media_gb(model: TrafficModel) -> Decimal:
    return monthly_media_downloads(model) * model.document.media.object_kb.value * 1000 / BYTES_PER_GB


def monthly_uploads(model: TrafficModel) -> Decimal:
    """Files uploaded a month: the presigned uploads that are used."""
    uploads = model.document.uploads
    return monthly_requests_of(model, EndpointClass.UPLOAD_PRESIGN) * uploads.completed_share.value


def monthly_upload_gb(model: TrafficModel) -> Decimal:
    uploads = model.document.uploads
    large = uploads.large_share.value
    mean_kb = (1 - large) * uploads.small_object_kb.value + large * uploads.large_object_kb.value
    return monthly_uploads(model) * mean_kb * 1000 / BYTES_PER_GB


def monthly_database_gb(model: TrafficModel) -> Decimal:
    """What the app and Atlas exchange a month: results of the reads that miss the cache, and the writes."""
    database = model.document.database
    reads = monthly_requests_of(model, EndpointClass.DATABASE_READ) * database.bytes_per_read.value
    writes = monthly_requests_of(model, EndpointClass.WRITE) * database.bytes_per_write.value
    return gigabytes(reads + writes)


def monthly_database_results_gb(model: TrafficModel) -> Decimal:
    """What Atlas sends (Atlas bills the data leaving its nodes; what it receives is free)."""
    database = model.document.database
    return gigabytes(monthly_requests_of(model, EndpointClass.DATABASE_READ) * database.bytes_per_read.value)


def monthly_cache_gb(model: TrafficModel) -> Decimal:
    """App <-> cache bytes a month: each cache call carries about one response's worth."""
    document = model.document
    total = Decimal(0)
    for endpoint in EndpointClass:
        calls = monthly_requests_of(model, endpoint) * document.cache_calls.of(endpoint).value
        total += calls * document.response_bytes.of(endpoint).value
    return gigabytes(total)


def peak_database_operations_per_second(model: TrafficModel) -> Decimal:
    """Queries and writes a second at the peak: what Atlas's opcounters would show."""
    return peak_rps_of(model, EndpointClass.DATABASE_READ) + peak_rps_of(model, EndpointClass.WRITE)


# Logs.
def monthly_access_log_gb(model: TrafficModel) -> Decimal:
    """The app's access lines, one per request, into CloudWatch Logs."""
    return gigabytes(monthly_requests(model) * model.document.logs.access_line_bytes.value)


def monthly_alb_log_gb(model: TrafficModel) -> Decimal:
    """The load balancer's access logs as written to S3 (gzip)."""
    logs = model.document.logs
    return gigabytes(monthly_requests(model) * logs.alb_line_bytes.value) / logs.compression_ratio.value


def monthly_flow_log_gb(model: TrafficModel) -> Decimal:
    """VPC flow log records: every open connection to the load balancer is one flow each way, recorded once a
    minute (the flow log's 1-minute aggregation)."""
    logs, connections = model.document.logs, model.document.connections
    open_connections = average_concurrent_users(model) * connections.per_user.value
    records = open_connections * 2 * 60 * HOURS_PER_MONTH
    return gigabytes(records * logs.flow_record_bytes.value)


# Background jobs.
def monthly_fanout_jobs(model: TrafficModel) -> Decimal:
    return model.document.users.concurrent_at_peak.value * model.document.jobs.fanout_jobs_per_user_per_month.value


def monthly_jobs(model: TrafficModel) -> Decimal:
    """Jobs the workers run a month: every completed upload enqueues one processing job, plus the fan-outs."""
    return monthly_uploads(model) + monthly_fanout_jobs(model)


def monthly_worker_log_gb(model: TrafficModel) -> Decimal:
    """The workers' log: a line per job state change (no access lines)."""
    jobs = model.document.jobs
    return gigabytes(monthly_jobs(model) * jobs.state_changes_per_job.value * jobs.worker_log_line_bytes.value)


def monthly_thumbnails(model: TrafficModel) -> Decimal:
    return monthly_uploads(model) * model.document.jobs.thumbnail_share.value


def monthly_quarantined(model: TrafficModel) -> Decimal:
    return monthly_uploads(model) * model.document.jobs.quarantined_share.value


def stored_thumbnail_gb(model: TrafficModel) -> Decimal:
    """Thumbnails kept beside the stored files: one per stored image, as many as the files' count implies."""
    document = model.document
    uploads, jobs = document.uploads, document.jobs
    mean_kb = (1 - uploads.large_share.value) * uploads.small_object_kb.value + (
        uploads.large_share.value * uploads.large_object_kb.value
    )
    files = document.storage.files_gb.value * BYTES_PER_GB / (mean_kb * 1000)
    return files * jobs.thumbnail_share.value * jobs.thumbnail_kb.value * 1000 / BYTES_PER_GB


def whole(value: Decimal) -> int:
    """Rounded up to a whole unit: instances, pods, LCUs, requests."""
    return math.ceil(value)


def describe(model: TrafficModel) -> Mapping[str, Decimal]:
    """The derived figures the report shows for a tier, by name."""
    return {
        "peak requests/s": peak_rps(model),
        "average requests/s": average_rps(model),
        "requests a month": monthly_requests(model),
        "API responses, GB a month": monthly_response_gb(model),
        "media from the CDN, GB a month": monthly_media_gb(model),
        "peak database operations/s": peak_database_operations_per_second(model),
        "LCUs at peak": peak_lcu(model).billed,
        "LCUs on average": average_lcu(model).billed,
    }
