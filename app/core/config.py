"""The service's settings: one pydantic-settings class read from the environment.

The infrastructure provides these variables (secrets from AWS Secrets Manager): APP_ENV, MONGO_URL (with the
database name), REDIS_URL, JWT_KEYS with JWT_CURRENT_KID, HEALTH_DETAILED_TOKEN, S3_BUCKET, CDN_DOMAIN with
CDN_SIGNING_KEY_ID and CDN_SIGNING_PRIVATE_KEY, CORS_ORIGINS, AWS_REGION. Everything
else is a tuning value with a default that suits one 2-4 vCPU instance.
"""

import base64
import json
import re
from functools import lru_cache
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Values people paste while wiring things up. None of them is acceptable as a secret in production.
PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "secret",
        "password",
        "placeholder",
        "default",
        "development",
        "dev",
        "test",
        "todo",
        "xxx",
        "[secret]",
    }
)
MIN_SECRET_LENGTH = 32
# Development-only values: convenient on a laptop with docker-compose, refused in production.
DEV_SECRET = "changethis"  # noqa: S105 - the development placeholder that production refuses
# Production must name these explicitly instead of inheriting a localhost default.
REQUIRED_IN_PRODUCTION = (
    "mongo_url",
    "redis_url",
    "s3_bucket",
    "jwt_keys",
    "jwt_current_kid",
    "health_detailed_token",
)
DEV_JWT_KID = "dev"
# A key id as it appears in a token's header: short and plain (it is logged when a token names an unknown one).
_JWT_KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_MONGO_DB_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")


def _split_list(value: object) -> object:
    """Accept a JSON list or a comma-separated string for list settings (`a,b` is what people type)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        return json.loads(text)
    return [item.strip() for item in text.split(",") if item.strip()]


def _pem_private_key(value: str) -> bytes | None:
    """PEM bytes of a private key given as PEM or as base64 of the PEM; None when it is neither."""
    text = value.strip()
    if not text.startswith("-----BEGIN"):
        try:
            text = base64.b64decode(text, validate=True).decode("ascii").strip()
        except (ValueError, UnicodeDecodeError):
            return None
    if not (text.startswith("-----BEGIN") and "PRIVATE KEY-----" in text.splitlines()[0]):
        return None
    return (text + "\n").encode("ascii")


_PERIODS = {"second": 1, "minute": 60, "hour": 3_600, "day": 86_400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(?:(\d+)\s*s|(second|minute|hour|day))\s*$")


class RateLimit(BaseModel):
    """At most `requests` per `period_seconds` for one client, with bursts up to `requests` (GCRA: one request
    every period/requests on average, the whole allowance at once after a quiet period)."""

    model_config = ConfigDict(frozen=True)

    requests: int = Field(ge=1, le=1_000_000)
    period_seconds: int = Field(ge=1, le=86_400)

    @classmethod
    def parse(cls, value: object) -> object:
        """`20/minute`, `1000/hour`, `5/second`, `300/day` or `30/90s`; a dict or a RateLimit passes through."""
        if not isinstance(value, str):
            return value
        match = _RATE.match(value.lower())
        if match is None:
            raise ValueError(
                f"{value!r} is not a rate: write REQUESTS/PERIOD with PERIOD second, minute, hour, day or Ns,"
                " for example 20/minute or 30/90s"
            )
        requests, seconds, unit = match.groups()
        return {"requests": int(requests), "period_seconds": int(seconds) if seconds else _PERIODS[unit]}

    def __str__(self) -> str:
        return f"{self.requests}/{self.period_seconds}s"


class Settings(BaseSettings):
    # hide_input_in_errors: a failed validation must not echo the raw environment (secrets) into logs.
    model_config = SettingsConfigDict(extra="ignore", frozen=True, case_sensitive=False, hide_input_in_errors=True)

    app_env: Literal["development", "production"] = "development"
    service_name: str = "contentry-api"
    # Set by the image build (git sha or tag) so /detailed says which build is running.
    app_release: str = "dev"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    access_log_enabled: bool = True

    # MongoDB. The URL carries credentials, so it is a secret, and it must name the database.
    mongo_url: SecretStr = SecretStr("mongodb://localhost:27017/contentry")
    mongo_max_pool_size: int = Field(default=100, ge=1, le=1000)
    mongo_min_pool_size: int = Field(default=0, ge=0, le=1000)
    mongo_max_idle_time_ms: int = Field(default=60_000, ge=1_000)
    mongo_wait_queue_timeout_ms: int = Field(default=2_000, ge=100)
    mongo_connect_timeout_ms: int = Field(default=2_000, ge=100)
    mongo_server_selection_timeout_ms: int = Field(default=3_000, ge=100)
    # Upper bound for one API query (client-side operation timeout); a slow database fails fast with 503.
    mongo_query_timeout_seconds: float = Field(default=2.0, gt=0, le=60)

    # Redis: a cache only. Short timeouts, because a slow cache must never be slower than the database.
    redis_url: SecretStr = SecretStr("redis://localhost:6379/0")
    redis_max_connections: int = Field(default=200, ge=1, le=10_000)
    redis_socket_timeout_seconds: float = Field(default=0.25, gt=0, le=10)
    redis_connect_timeout_seconds: float = Field(default=0.25, gt=0, le=10)
    # How long a request waits for a free Redis connection before it goes to the database instead.
    redis_pool_wait_seconds: float = Field(default=0.05, ge=0, le=5)

    cache_enabled: bool = True
    cache_prefix: str = Field(default="contentry", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    cache_default_ttl_seconds: int = Field(default=60, ge=1, le=86_400)
    posts_cache_ttl_seconds: int = Field(default=30, ge=1, le=86_400)
    # Once the breaker opens (see the failure-rate settings below) the cache skips Redis for this long, so a
    # dead Redis adds no latency; then one trial call decides. Short, so a restarted Redis is used again fast.
    cache_breaker_cooldown_seconds: float = Field(default=2.0, gt=0, le=300)

    # Readiness: each dependency gets this long; the answer is reused for readiness_cache_seconds so a
    # probe storm costs one ping per process. cache + timeout stays under 2 s: MongoDB down shows fast.
    readiness_timeout_seconds: float = Field(default=0.5, gt=0, le=10)
    readiness_cache_seconds: float = Field(default=1.0, ge=0, le=30)
    create_indexes_on_startup: bool = True

    # Secrets. Never logged: SecretStr hides them from repr, str and model_dump.
    # The bearer tokens' keys, by key id (`kid` in a token's header): a JSON object {"kid": "secret", ...}. A token
    # is verified with the key its kid names, so every key listed is accepted; new tokens are signed with
    # JWT_CURRENT_KID's. The infrastructure lists the previous, the current and the next generation's keys, so a
    # rotation logs no one out (infra/planning/data/jwt_keys.py).
    jwt_keys: Annotated[dict[str, SecretStr], NoDecode] = {DEV_JWT_KID: SecretStr(DEV_SECRET)}
    jwt_current_kid: str = DEV_JWT_KID
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    health_detailed_token: SecretStr = SecretStr(DEV_SECRET)

    # Files.
    s3_bucket: str = Field(default="contentry-dev-uploads", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    s3_endpoint_url: str | None = None
    cdn_domain: str | None = None
    # CloudFront signed URLs (the CDN serves private files only with them): the CloudFront public key's id, and
    # the matching RSA private key as PEM, or base64 of the PEM (one line, as the infrastructure's secret has it).
    # Each download URL is valid for download_url_expires_seconds.
    cdn_signing_key_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,128}$")
    cdn_signing_private_key: SecretStr | None = None
    aws_region: str = "us-east-1"
    upload_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1, le=5 * 1024**3)
    upload_allowed_content_types: Annotated[list[str], NoDecode] = [
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "video/mp4",
        "application/pdf",
    ]
    upload_url_expires_seconds: int = Field(default=900, ge=60, le=7 * 86_400)
    download_url_expires_seconds: int = Field(default=3_600, ge=60, le=7 * 86_400)

    cors_origins: Annotated[list[str], NoDecode] = []

    # Saturation, recovery and hostile input.
    # The cache's breaker opens when, over the last window, at least min_calls Redis calls were made and at
    # least failure_rate of them failed: one stray error never sends the whole load to MongoDB.
    cache_breaker_window_seconds: float = Field(default=10.0, ge=1, le=300)
    cache_breaker_min_calls: int = Field(default=10, ge=1, le=10_000)
    cache_breaker_failure_rate: float = Field(default=0.5, gt=0, le=1)
    # A pooled Redis connection idle this long is PINGed before reuse (0 turns the check off).
    redis_health_check_seconds: int = Field(default=10, ge=0, le=3_600)
    # /ready says 503 only after this many consecutive failed MongoDB pings; a ping that timed out while this
    # worker's event loop was itself saturated is inconclusive and does not count (app/services/readiness.py).
    readiness_failure_threshold: int = Field(default=2, ge=1, le=20)
    # Largest JSON request body accepted (POST /api/uploads is a few hundred bytes); larger gets 413 before
    # the rest is read. Routes that take no body accept none.
    json_body_max_bytes: int = Field(default=16 * 1024, ge=1_024, le=10 * 1024 * 1024)

    # Rate limits, shared by every worker and instance through Redis (app/services/rate_limit.py): each write
    # counts against the caller's user (the token's subject) and its address, and an upload presign against the
    # upload limits as well. Redis down: requests are let through (fail open), logged and counted in /detailed.
    rate_limit_enabled: bool = True
    rate_limit_writes_per_user: Annotated[RateLimit, NoDecode] = RateLimit(requests=60, period_seconds=60)
    rate_limit_writes_per_ip: Annotated[RateLimit, NoDecode] = RateLimit(requests=300, period_seconds=60)
    rate_limit_uploads_per_user: Annotated[RateLimit, NoDecode] = RateLimit(requests=20, period_seconds=60)
    rate_limit_uploads_per_ip: Annotated[RateLimit, NoDecode] = RateLimit(requests=100, period_seconds=60)
    # Redis connections the limiter may hold at once (on top of the cache's); a request that finds none free
    # within redis_pool_wait_seconds is let through, counted, rather than queued behind the limiter.
    rate_limit_max_connections: int = Field(default=32, ge=1, le=1_000)
    # Proxies in front of the app that append to X-Forwarded-For: the client is the Nth entry from the right
    # (app/core/client_address.py). 1 behind the ALB (tiers A, B and C); 0 when clients connect directly.
    trusted_proxy_hops: int = Field(default=1, ge=0, le=10)

    # Background jobs (app/jobs/): Celery on the Redis of REDIS_URL (broker and result store), one queue `jobs`.
    # The hard time limit of one attempt (the infrastructure's jobTimeLimitSeconds, 30-3600); the soft limit, at
    # which a task is told to stop and is retried, comes a margin earlier (soft_time_limit_seconds).
    job_time_limit_seconds: int = Field(default=300, ge=2, le=3_600)
    # Attempts per job (the first try included) before it is recorded as failed; the retries wait an exponential
    # backoff (base * 2^retry, at most max) with jitter, so a broken dependency is not hammered in lockstep.
    job_max_attempts: int = Field(default=5, ge=1, le=50)
    job_retry_backoff_seconds: float = Field(default=2.0, gt=0, le=600)
    job_retry_backoff_max_seconds: float = Field(default=120.0, gt=0, le=3_600)
    # Redis has no acknowledgements: a message a worker took stays in an "unacked" set and is handed out again
    # once it is older than this (the worker died). It must exceed the hard time limit plus the longest retry wait,
    # or a job still running would be delivered a second time (None: both plus a minute, broker_visibility_timeout).
    broker_visibility_timeout_seconds: int | None = Field(default=None, ge=2, le=86_400)
    # How often a worker sweeps that set for messages to hand out again.
    broker_restore_interval_seconds: float = Field(default=10.0, gt=0, le=600)
    # Publishing from a request must never hang: connect and socket deadlines, and a bounded number of retries
    # before the API answers 503.
    broker_connect_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    broker_socket_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    broker_publish_max_retries: int = Field(default=2, ge=0, le=10)
    # Celery processes per worker host or pod (python -m app.jobs.worker).
    worker_concurrency: int = Field(default=2, ge=1, le=64)
    # python -m app.jobs.queue_metrics: CloudWatch namespace, the Stack dimension, and the period.
    jobs_metrics_namespace: str = Field(default="Contentry/Jobs", pattern=r"^[A-Za-z0-9/_.#:-]{1,255}$")
    jobs_metrics_interval_seconds: float = Field(default=60.0, ge=1, le=3_600)
    # Written after each publish; `python -m app.jobs.queue_metrics --check` (the exporter's probe) reads it.
    jobs_metrics_heartbeat_path: str = "/tmp/contentry-queue-metrics.heartbeat"  # noqa: S108 - the pod's own emptyDir
    stack_name: str = Field(default="dev", pattern=r"^[A-Za-z0-9._-]{1,128}$")
    # Upload processing: a file whose bytes are not the type it was declared as is moved under this prefix.
    upload_quarantine_prefix: str = Field(default="quarantine/", pattern=r"^[A-Za-z0-9._-]{1,64}/$")
    upload_thumbnail_prefix: str = Field(default="thumbnails/", pattern=r"^[A-Za-z0-9._-]{1,64}/$")
    thumbnail_max_edge_pixels: int = Field(default=320, ge=16, le=2_048)
    # Pillow decodes at most this many pixels (Image.MAX_IMAGE_PIXELS): a 1 KB PNG can claim 50,000 x 50,000.
    image_max_pixels: int = Field(default=50_000_000, ge=1_000, le=500_000_000)
    # Notification fan-out: recipients per insert_many.
    notification_batch_size: int = Field(default=500, ge=1, le=10_000)

    # Datadog APM (off by default): when true the API and the worker trace through ddtrace (service, env and
    # version from DD_SERVICE, DD_ENV, DD_VERSION; DD_LOGS_INJECTION puts dd.trace_id and dd.span_id on every log
    # line). When false ddtrace is never imported (app/core/tracing.py).
    datadog_enabled: bool = False

    @field_validator(
        "rate_limit_writes_per_user",
        "rate_limit_writes_per_ip",
        "rate_limit_uploads_per_user",
        "rate_limit_uploads_per_ip",
        mode="before",
    )
    @classmethod
    def _parse_rate(cls, value: object) -> object:
        return RateLimit.parse(value)

    @field_validator("cors_origins", "upload_allowed_content_types", mode="before")
    @classmethod
    def _parse_list(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin == "*":
                continue
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
                raise ValueError(f"CORS_ORIGINS entry {origin!r} must be an origin like https://app.example.com")
        return [origin.rstrip("/") for origin in origins]

    @field_validator("mongo_url")
    @classmethod
    def _check_mongo_url(cls, url: SecretStr) -> SecretStr:
        parts = urlsplit(url.get_secret_value())
        if parts.scheme not in ("mongodb", "mongodb+srv") or not parts.netloc:
            raise ValueError("MONGO_URL must be a mongodb:// or mongodb+srv:// URL")
        if not _MONGO_DB_NAME.match(parts.path.lstrip("/")):
            raise ValueError("MONGO_URL must name the database, as in mongodb://host:27017/contentry")
        return url

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, url: SecretStr) -> SecretStr:
        parts = urlsplit(url.get_secret_value())
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ValueError("REDIS_URL must be a redis:// or rediss:// URL")
        return url

    @field_validator("jwt_keys", mode="before")
    @classmethod
    def _parse_jwt_keys(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            keys = json.loads(value)
        except ValueError:
            keys = None
        if not isinstance(keys, dict) or not all(isinstance(key, str) for key in keys.values()):
            # Never echoed: it holds the keys.
            raise ValueError('JWT_KEYS must be a JSON object of key ids to keys: {"<kid>": "<secret>", ...}')
        return keys

    @field_validator("jwt_keys")
    @classmethod
    def _check_jwt_keys(cls, keys: dict[str, SecretStr]) -> dict[str, SecretStr]:
        if not keys:
            raise ValueError('JWT_KEYS must name at least one key: {"<kid>": "<secret>"}')
        for kid in keys:
            if not _JWT_KID.match(kid):
                # The kid is not secret (every token carries it in the clear); the key itself is never echoed.
                raise ValueError(f"JWT_KEYS key id {kid!r} must be 1-64 letters, digits, '.', '_' or '-'")
        return keys

    @field_validator("cdn_signing_private_key")
    @classmethod
    def _check_signing_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and not _pem_private_key(key.get_secret_value()):
            # Never echoed: it is the key.
            raise ValueError("CDN_SIGNING_PRIVATE_KEY must be a PEM private key, or base64 of one")
        return key

    @field_validator("cdn_domain", "cdn_signing_key_id", "s3_endpoint_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # The infrastructure sets CDN_DOMAIN="" when a tier has no CloudFront.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("cdn_domain")
    @classmethod
    def _check_cdn_domain(cls, domain: str | None) -> str | None:
        if domain is not None and not _HOSTNAME.match(domain):
            raise ValueError("CDN_DOMAIN must be a bare host name such as d111111abcdef8.cloudfront.net")
        return domain

    @field_validator("aws_region")
    @classmethod
    def _check_region(cls, region: str) -> str:
        if not _AWS_REGION.match(region):
            raise ValueError(f"AWS_REGION {region!r} is not a region name such as eu-west-1")
        return region

    @model_validator(mode="after")
    def _check_production(self) -> Self:
        if self.mongo_min_pool_size > self.mongo_max_pool_size:
            raise ValueError("MONGO_MIN_POOL_SIZE must not exceed MONGO_MAX_POOL_SIZE")
        if (self.cdn_signing_key_id is None) != (self.cdn_signing_private_key is None):
            raise ValueError("CDN_SIGNING_KEY_ID and CDN_SIGNING_PRIVATE_KEY go together: set both or neither")
        if self.is_production and self.cdn_domain is not None and self.cdn_signing_key_id is None:
            raise ValueError(
                "CDN_DOMAIN needs CDN_SIGNING_KEY_ID and CDN_SIGNING_PRIVATE_KEY in production: the CDN serves signed"
                " URLs only"
            )
        if (
            self.broker_visibility_timeout_seconds is not None
            and self.broker_visibility_timeout_seconds
            <= self.job_time_limit_seconds + self.job_retry_backoff_max_seconds
        ):
            # A message stays unacknowledged while its job runs (acks_late) and while a retry waits for its
            # countdown in the worker: past the visibility timeout Redis would hand it out again, and it would run
            # twice.
            raise ValueError(
                f"BROKER_VISIBILITY_TIMEOUT_SECONDS ({self.broker_visibility_timeout_seconds}) must exceed"
                f" JOB_TIME_LIMIT_SECONDS ({self.job_time_limit_seconds}) plus JOB_RETRY_BACKOFF_MAX_SECONDS"
                f" ({self.job_retry_backoff_max_seconds:g}): Redis hands a message out again once it is older than"
                " that, so a job still running or waiting to retry would run twice"
            )
        problems = []
        if self.jwt_current_kid not in self.jwt_keys:
            problems.append(
                f"JWT_CURRENT_KID {self.jwt_current_kid!r} is not a key id of JWT_KEYS"
                f" ({', '.join(sorted(self.jwt_keys))})"
            )
        if self.app_env != "production":
            if problems:
                raise ValueError("; ".join(problems))
            return self
        problems += [
            f"{name.upper()} must be set explicitly in production"
            for name in REQUIRED_IN_PRODUCTION
            if name not in self.model_fields_set
        ]
        named_secrets = [
            *((f"JWT_KEYS[{kid}]", key) for kid, key in sorted(self.jwt_keys.items())),
            ("HEALTH_DETAILED_TOKEN", self.health_detailed_token),
        ]
        for name, secret in named_secrets:
            value = secret.get_secret_value()
            if value.strip().lower() in PLACEHOLDER_SECRETS or len(value) < MIN_SECRET_LENGTH:
                problems.append(f"{name} is a placeholder or shorter than {MIN_SECRET_LENGTH} characters")
        if "*" in self.cors_origins:
            problems.append("CORS_ORIGINS must list origins explicitly in production, not '*'")
        if problems:
            # Names only, never values: this message ends up in logs.
            raise ValueError("; ".join(problems))
        return self

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def cdn_signing_private_key_pem(self) -> bytes | None:
        """The signing key as PEM bytes, whichever form CDN_SIGNING_PRIVATE_KEY came in."""
        if self.cdn_signing_private_key is None:
            return None
        return _pem_private_key(self.cdn_signing_private_key.get_secret_value())

    @property
    def soft_time_limit_seconds(self) -> float:
        """When a task is told to stop (SoftTimeLimitExceeded) and is retried: a tenth of the hard limit before it,
        at least 1 s and at most 30 s, so the task records its state before the hard limit kills the process."""
        return self.job_time_limit_seconds - max(1.0, min(30.0, self.job_time_limit_seconds / 10))

    @property
    def broker_visibility_timeout(self) -> int:
        """Seconds before Redis hands an unacknowledged message out again: the setting, or the hard time limit
        plus the longest retry wait plus a minute, so no running or waiting job is delivered twice."""
        if self.broker_visibility_timeout_seconds is not None:
            return self.broker_visibility_timeout_seconds
        return self.job_time_limit_seconds + int(self.job_retry_backoff_max_seconds) + 60

    @property
    def mongo_database(self) -> str:
        return urlsplit(self.mongo_url.get_secret_value()).path.lstrip("/")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings()
