"""The stack config as a frozen, typed model.

Each field's alias is its config key (`pulumi config set <alias> ...` in the project's namespace, or the full
`namespace:key` for provider keys such as `aws:region`). Field metadata says whether a key takes its value from
the tier's preset, whether it must be a Pulumi secret, and what stands in for a documented placeholder in the
offline plan. `infra.config.keys` walks these fields, so the model is the one source of truth for the loader,
`Pulumi.yaml` and the docs.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from functools import cache
from ipaddress import IPv4Network
from typing import Annotated, Any, Final, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from infra.capacity.ec2_fleet import DEPLOY_MAX_HEALTHY_PERCENT
from infra.capacity.mongo_connections import job_worker_connections
from infra.catalog.kubernetes_versions import DEFAULT_KUBERNETES_VERSION, KUBERNETES_VERSIONS


class Tier(StrEnum):
    """The environment's shape, from the seed's cost options."""

    A = "A"
    """100K users: EC2 Auto Scaling behind an ALB, Atlas M30, ElastiCache with a replica, S3 + CloudFront."""
    B = "B"
    """The same data tier, the app on EKS deployed with pulumi-kubernetes."""
    C = "C"
    """Budget, 10-20K users: two small instances behind an ALB, Atlas M10, a small or external Redis, S3."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    """Torn down and rebuilt freely: no deletion protection, single points of failure allowed."""
    PRODUCTION = "production"
    """Stateful resources protected, HTTPS required, no single point of failure."""


class ComputePlatform(StrEnum):
    EC2 = "ec2"
    EKS = "eks"


class NatStrategy(StrEnum):
    """How the private app subnets reach the internet (image pulls, the Atlas API, OS updates)."""

    ONE_PER_AZ = "one-per-az"
    """A NAT gateway in every AZ: losing an AZ loses only that AZ's egress. Recommended for production."""
    SINGLE = "single"
    """One NAT gateway for every AZ: about $33 a month less per extra AZ, plus inter-AZ data charges, but a
    single point of failure for all egress. Not recommended for production; refused there."""
    INSTANCE = "instance"
    """A NAT instance (t4g.nano, Amazon Linux 2023) in an Auto Scaling group of one, which replaces it when it
    fails: about $30 a month less than one NAT gateway and no per-GB processing charge, but one instance in one
    AZ carries all egress and a replacement takes minutes. Development only; refused in production."""


class CacheMode(StrEnum):
    ELASTICACHE = "elasticache"
    """An ElastiCache replication group in the data subnets, provisioned by this program."""
    EXTERNAL = "external"
    """A Redis the program does not manage, reached through `externalRedisUrl` (a secret)."""


class CacheEngine(StrEnum):
    VALKEY = "valkey"
    """Redis-compatible, about 20% cheaper per node-hour on ElastiCache."""
    REDIS = "redis"


def setting(
    key: str,
    description: str,
    *,
    default: Any = ...,
    tier_preset: bool = False,
    secret: bool = False,
    offline_value: str | None = None,
) -> Any:
    """A config key: its alias is the key; `tier_preset` keys have no default of their own.

    `offline_value` stands in for a documented placeholder (`<...>`) in the offline plan only.
    """
    extra: dict[str, Any] = {"tier_preset": tier_preset, "secret": secret}
    if offline_value is not None:
        extra["offline_value"] = offline_value
    return Field(default, alias=key, description=description, json_schema_extra=extra)


_Frozen = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, use_enum_values=False)

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
AtlasInstanceSize = Literal["M10", "M20", "M30", "M40", "M50", "M60", "M80", "M140", "M200", "M300"]
MongoVersion = Literal["7.0", "8.0"]
ATLAS_NODE_COUNTS = (3, 5, 7)
# Atlas's own default for an AWS peering container: a /21 outside the 10.0.0.0/8 space our VPCs use. Here, at the
# ground floor, because the config validates `vpcCidr` against it (infra.planning.data.atlas_sizing uses it too).
ATLAS_CIDR: Final = IPv4Network("192.168.248.0/21")


def atlas_size_rank(size: str) -> int:
    """Order of Atlas tiers (M10 < M20 < ... < M300), for comparing auto-scaling bounds."""
    return get_args(AtlasInstanceSize).index(size)


_HOSTNAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[a-z]{2,63}$", re.IGNORECASE)
_CACHE_NODE_TYPE = re.compile(r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
# A Docker tag (at most 128 characters, no leading '.' or '-') or an image digest.
_IMAGE_TAG = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[a-f0-9]{64})$")
_HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
_AMI_ID = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
LATEST_AMI = "latest"
"""computeAmiId's value for "the newest Amazon Linux 2023 release at every up" (refused in production)."""
AL2023_AMI_PARAMETER_PREFIX = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-"
"""AWS's public SSM parameters naming the current AL2023 AMI, by architecture (arm64, x86_64)."""
CdnPriceClass = Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]
MAX_JWT_KEY_GENERATION = 1_000_000


@cache
def ec2_instance_types() -> frozenset[str]:
    """Every EC2 instance type botocore knows: the list the EC2 API itself validates against."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("ec2")
    return frozenset(model.shape_for("InstanceType").enum)


@cache
def aws_regions() -> frozenset[str]:
    import botocore.session

    return frozenset(botocore.session.get_session().get_available_regions("ec2"))


_DEFAULT_PORTS = {"https": 443, "http": 80}


def normalized_origin(origin: str) -> str:
    """A browser origin as the `Origin` header spells it: `scheme://host[:port]`, lower case, no default port, no
    path. Raises ValueError naming what is wrong.

    No wildcard, in any environment: `*` would let any web site call the API and upload with its users'
    credentials, and on AWS the app always runs with APP_ENV=production, which refuses it (app/core/config.py), so
    a development stack with `*` would deploy an app that cannot start."""
    if "*" in origin:
        raise ValueError(
            f"'{origin}': no wildcard (any web site could call the API with its users' credentials, and the app "
            "refuses it on AWS); list each origin, for example https://app.example.com"
        )
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        raise ValueError(f"'{origin}' is not an origin: its port is not a number from 1 to 65535") from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(
            f"'{origin}' is not an origin: scheme://host[:port] with http or https, e.g. https://app.example.com"
        )
    if parts.username is not None or parts.password is not None:
        # Not echoed: the part before @ may be a password.
        raise ValueError(
            "an entry is not an origin: it names a user (user@ or user:password@); only scheme://host[:port]"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"'{origin}' is not an origin: only scheme://host[:port], no path or query")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    shown_port = "" if port is None or port == _DEFAULT_PORTS[parts.scheme] else f":{port}"
    return f"{parts.scheme.lower()}://{host}{shown_port}"


class NetworkSettings(BaseModel):
    model_config = _Frozen

    vpc_cidr: IPv4Network = setting(
        "vpcCidr",
        "IPv4 CIDR of the VPC, /16 to /21. Must not overlap the Atlas project's CIDR or any peered network.",
        default=IPv4Network("10.0.0.0/16"),
    )
    az_count: Annotated[int, Field(ge=2, le=6)] = setting(
        "azCount",
        "How many availability zones the VPC, the load balancer and the fleet span (2 to 6; the ALB needs 2).",
        tier_preset=True,
    )
    nat_strategy: NatStrategy = setting(
        "natStrategy",
        "`one-per-az` (highly available), `single` (one NAT gateway) or `instance` (a self-healing NAT instance, the"
        " cheapest); `single` and `instance` are one point of failure, refused in production.",
        tier_preset=True,
    )

    @field_validator("vpc_cidr")
    @classmethod
    def _private_and_sized(cls, cidr: IPv4Network) -> IPv4Network:
        if not cidr.is_private:
            raise ValueError(f"{cidr} is not a private (RFC 1918) range")
        if not 16 <= cidr.prefixlen <= 21:
            raise ValueError(f"/{cidr.prefixlen} is outside /16 to /21, the sizes the subnet plan supports")
        return cidr


class ComputeSettings(BaseModel):
    model_config = _Frozen

    instance_type: str = setting(
        "computeInstanceType",
        "EC2 instance type of the app fleet (tiers A, C) or of the EKS node group (tier B).",
        tier_preset=True,
    )
    min_size: Annotated[int, Field(ge=1, le=100)] = setting(
        "computeMinSize", "Fewest instances (or EKS nodes) the fleet scales in to.", tier_preset=True
    )
    desired_size: Annotated[int, Field(ge=1, le=100)] = setting(
        "computeDesiredSize", "Instances (or nodes) at creation; scaling adjusts it later.", tier_preset=True
    )
    max_size: Annotated[int, Field(ge=1, le=100)] = setting(
        "computeMaxSize", "Most instances (or EKS nodes) the fleet scales out to.", tier_preset=True
    )
    image_tag: str = setting(
        "appImageTag",
        "The app image to run: a tag (for example 1.4.2 or a git sha) or a digest (sha256:...) in this stack's"
        " ECR repository. Tags there are immutable, so `latest` is refused.",
        offline_value="1.0.0",
    )
    root_volume_gb: Annotated[int, Field(ge=20, le=500)] = setting(
        "computeRootVolumeGb", "Size of each instance's encrypted gp3 root volume in GiB (20 to 500).", default=30
    )
    ami_id: str = setting(
        "computeAmiId",
        "The Amazon Linux 2023 AMI the instances boot (tiers A and C): an AMI id (ami-...) of the instance type's"
        " architecture, pinned so that a new Amazon Linux release reaches the fleet only when you set it; or"
        " `latest`, the newest release at every `pulumi up` (refused in production). Print the current one:"
        f" aws ssm get-parameter --name {AL2023_AMI_PARAMETER_PREFIX}arm64 (x86_64 for x86 types) --query"
        " Parameter.Value --output text",
        default=LATEST_AMI,
        offline_value="ami-0123456789abcdef0",
    )

    @field_validator("image_tag")
    @classmethod
    def _image_reference(cls, value: str) -> str:
        if not _IMAGE_TAG.match(value):
            raise ValueError(
                f"'{value}' is neither an image tag (letters, digits, '_', '.', '-'; up to 128) nor a sha256 digest"
            )
        if value == "latest":
            raise ValueError("'latest' is mutable and ECR tags here are immutable: use a version, git sha or digest")
        return value

    @field_validator("ami_id")
    @classmethod
    def _ami(cls, value: str) -> str:
        if value != LATEST_AMI and not _AMI_ID.match(value):
            raise ValueError(f"'{value}' is neither an AMI id (ami- and 8 or 17 hex digits) nor '{LATEST_AMI}'")
        return value

    @field_validator("instance_type")
    @classmethod
    def _known_instance_type(cls, value: str) -> str:
        if value not in ec2_instance_types():
            raise ValueError(f"'{value}' is not an EC2 instance type (for example c7g.xlarge, t4g.large)")
        return value

    @property
    def is_graviton(self) -> bool:
        """Graviton (arm64) families carry a `g` after the generation digit: c7g, t4g, m6gd."""
        family = self.instance_type.split(".", 1)[0]
        return re.fullmatch(r"[a-z]+\d+g[a-z]*", family) is not None

    @property
    def pinned_ami(self) -> str | None:
        """The AMI id to boot, or None to boot the newest AL2023 release (computeAmiId `latest`)."""
        return None if self.ami_id == LATEST_AMI else self.ami_id


class DatabaseSettings(BaseModel):
    model_config = _Frozen

    atlas_org_id: str = setting(
        "atlasOrgId",
        "MongoDB Atlas organization id (24 hex digits), from the Atlas UI: Organization Settings.",
        offline_value="5f0000000000000000000000",
    )
    instance_size: AtlasInstanceSize = setting(
        "atlasInstanceSize", "Atlas cluster tier: M10 (budget) to M300.", tier_preset=True
    )
    node_count: int = setting("atlasNodeCount", "Electable nodes of the replica set: 3, 5 or 7.", tier_preset=True)
    mongo_version: MongoVersion = setting("mongoVersion", "MongoDB major version of the cluster.", default="8.0")
    min_instance_size: AtlasInstanceSize = setting(
        "atlasMinInstanceSize", "Smallest tier Atlas compute auto-scaling may scale down to.", tier_preset=True
    )
    max_instance_size: AtlasInstanceSize = setting(
        "atlasMaxInstanceSize", "Largest tier Atlas compute auto-scaling may scale up to.", tier_preset=True
    )

    @field_validator("atlas_org_id")
    @classmethod
    def _org_id(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{24}", value):
            raise ValueError(f"'{value}' is not an Atlas organization id (24 lowercase hex digits)")
        return value

    @field_validator("node_count")
    @classmethod
    def _replica_set(cls, value: int) -> int:
        if value not in ATLAS_NODE_COUNTS:
            raise ValueError(f"{value} electable nodes is not a valid Atlas replica set; allowed: 3, 5 or 7")
        return value


class CacheSettings(BaseModel):
    model_config = _Frozen

    mode: CacheMode = setting(
        "cacheMode",
        "`elasticache` (provisioned here) or `external` (needs externalRedisUrl).",
        tier_preset=True,
    )
    engine: CacheEngine = setting(
        "cacheEngine", "`valkey` (about 20% cheaper) or `redis` (Redis OSS).", default=CacheEngine.VALKEY
    )
    node_type: str = setting(
        "cacheNodeType",
        "ElastiCache node type, for example cache.t4g.medium or cache.m6g.large.",
        tier_preset=True,
    )
    replicas: Annotated[int, Field(ge=0, le=5)] = setting(
        "cacheReplicas",
        "Read replicas besides the primary (0 to 5); 1 or more enables automatic failover.",
        tier_preset=True,
    )
    external_url: SecretStr = setting(
        "externalRedisUrl",
        "redis:// or rediss:// URL of an external Redis, with its password. Set it with --secret.",
        default=SecretStr(""),
        secret=True,
        offline_value="rediss://default:offline-placeholder@redis.example.com:6380",
    )

    external_monthly_usd: Annotated[Decimal, Field(ge=0, max_digits=9, decimal_places=2)] = setting(
        "externalRedisMonthlyUsd",
        "What the external Redis (cacheMode external) costs a month in USD, for the cost estimate.",
        default=Decimal(0),
    )

    @field_validator("node_type")
    @classmethod
    def _node_type(cls, value: str) -> str:
        if not _CACHE_NODE_TYPE.match(value):
            raise ValueError(f"'{value}' is not an ElastiCache node type (cache.<family>.<size>)")
        return value

    @field_validator("external_url")
    @classmethod
    def _redis_url(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if url and not url.startswith(("redis://", "rediss://")):
            # Never echo the value: it carries a password.
            raise ValueError("must start with redis:// or rediss:// (the value is not shown: it is a secret)")
        if url and _redis_port(url) is None:
            raise ValueError("its port is not a number from 1 to 65535 (the value is not shown: it is a secret)")
        return value

    @property
    def external_port(self) -> int | None:
        """The external Redis's TCP port, the one part of `externalRedisUrl` that is not secret (the app's
        security group opens egress to it); None without an external URL."""
        url = self.external_url.get_secret_value()
        return _redis_port(url) if url else None


DEFAULT_REDIS_PORT = 6379
"""What Redis clients (redis-py, the app's) connect to when the URL names no port, with or without TLS."""


def _redis_port(url: str) -> int | None:
    """The URL's port, DEFAULT_REDIS_PORT when it names none, None when it is not a valid port. Never raises
    with the URL in the message (urllib's errors quote the port text, and a malformed URL may misplace the
    password there)."""
    try:
        port = urlsplit(url).port
    except ValueError:
        return None
    if port is None:
        return DEFAULT_REDIS_PORT
    return port if 1 <= port <= 65535 else None


class FilesSettings(BaseModel):
    model_config = _Frozen

    cdn_enabled: bool = setting(
        "cdnEnabled", "Serve the uploads bucket through CloudFront (true or false).", tier_preset=True
    )
    cdn_price_class: CdnPriceClass = setting(
        "cdnPriceClass",
        "CloudFront edge locations: PriceClass_100 (North America, Europe), PriceClass_200 (and most of Asia,"
        " Middle East, Africa) or PriceClass_All.",
        tier_preset=True,
    )


_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


class KubernetesSettings(BaseModel):
    """Tier B (EKS) only: its defaults are tier B's presets; a value set for tier A or C is refused (rules.py).
    The nodes use the compute keys (computeInstanceType, computeMinSize/DesiredSize/MaxSize, computeRootVolumeGb)."""

    model_config = _Frozen

    version: str = setting(
        "kubernetesVersion",
        "Tier B: Kubernetes version of the EKS cluster, one in EKS standard support that this program pins add-ons"
        " for (infra/catalog/kubernetes_versions.py).",
        default=DEFAULT_KUBERNETES_VERSION,
    )
    pod_cpu_millicores: Annotated[int, Field(ge=100, le=16000)] = setting(
        "podCpuRequestMillicores",
        "Tier B: CPU each app pod requests, in millicores (100 to 16000); its limit is twice that.",
        default=1000,
    )
    pod_memory_mib: Annotated[int, Field(ge=256, le=65536)] = setting(
        "podMemoryRequestMib",
        "Tier B: memory each app pod requests and is limited to, in MiB (256 to 65536).",
        default=1536,
    )
    min_replicas: Annotated[int, Field(ge=1, le=500)] = setting(
        "podMinReplicas",
        "Tier B: fewest app pods (the HorizontalPodAutoscaler's minimum; sized: 6 carry tier B's peak, 3 per AZ).",
        default=9,
    )
    max_replicas: Annotated[int, Field(ge=1, le=500)] = setting(
        "podMaxReplicas", "Tier B: most app pods (the HorizontalPodAutoscaler's maximum).", default=27
    )
    public_access_cidrs: str = setting(
        "clusterPublicAccessCidrs",
        "Tier B: comma-separated public IPv4 CIDRs that may reach the cluster's API endpoint from the internet."
        " Empty: the endpoint is private only (run `pulumi up` from inside the VPC). 0.0.0.0/0 is refused in"
        " production.",
        default="",
    )
    admin_role_arn: str = setting(
        "clusterAdminRoleArn",
        "Tier B: an IAM role (arn:aws:iam::<account>:role/<name>) given cluster admin through an EKS access entry,"
        " besides the role that runs `pulumi up`. Empty: none.",
        default="",
    )

    # Issue 16 (jobs-eks): the job workers' pods on tier B, scaled by KEDA on the Redis queue's length.
    worker_min_replicas: Annotated[int, Field(ge=1, le=500)] = setting(
        "workerPodMinReplicas",
        "Tier B: fewest job worker pods (KEDA's minReplicaCount; at least 1, so a job never waits for a pod to start).",
        default=2,
    )
    worker_max_replicas: Annotated[int, Field(ge=1, le=500)] = setting(
        "workerPodMaxReplicas",
        "Tier B: most job worker pods (KEDA's maxReplicaCount); their MongoDB connections count in the budget.",
        default=12,
    )

    @field_validator("version")
    @classmethod
    def _supported_version(cls, value: str) -> str:
        if value not in KUBERNETES_VERSIONS:
            allowed = ", ".join(KUBERNETES_VERSIONS)
            raise ValueError(f"'{value}' is not a Kubernetes version in EKS standard support here; allowed: {allowed}")
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _public_cidrs(cls, value: str) -> str:
        networks = []
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            try:
                network = IPv4Network(item)
            except ValueError:
                raise ValueError(
                    f"'{item}' is not an IPv4 CIDR with its host bits zero (for example 81.2.69.160/27)"
                ) from None
            if network.prefixlen and not network.is_global:
                raise ValueError(
                    f"{network} is not a public range (private, shared or reserved): the private endpoint already"
                    " serves the VPC; list public addresses"
                )
            networks.append(str(network))
        return ",".join(networks)

    @field_validator("admin_role_arn")
    @classmethod
    def _role_arn(cls, value: str) -> str:
        if value and not _ROLE_ARN.match(value):
            raise ValueError(f"'{value}' is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)")
        return value

    @property
    def public_access_cidr_list(self) -> tuple[str, ...]:
        return tuple(item for item in self.public_access_cidrs.split(",") if item)


# Operations (issue 12): alarm thresholds, alert routing, the web application firewall, the audit trail.
def _within(value: float | Decimal, low: float | Decimal, high: float | Decimal, unit: str) -> None:
    """Raises ValueError naming the allowed range when `value` is outside [low, high]."""
    if not low <= value <= high:
        raise ValueError(f"{value} {unit} is outside the allowed range, {low} to {high} {unit}")


class AlarmSettings(BaseModel):
    """CloudWatch alarm thresholds (and the Atlas connections alert's). The first six are the seed's alerts, with
    its figures as defaults; the cache's are ElastiCache's own guidance. Each alarm's window and its treatment of
    missing data are in infra/planning/operations/alarms.py."""

    model_config = _Frozen

    latency_p95_ms: int = setting(
        "alarmLatencyP95Ms",
        "Alarm when the app's p95 response time (the load balancer's TargetResponseTime) stays above this many"
        " milliseconds for 5 minutes (50 to 60000; the seed's 500).",
        default=500,
    )
    error_rate_percent: Decimal = setting(
        "alarmErrorRatePercent",
        "Alarm when more than this share of requests (%) is answered 5xx by the app or the load balancer for 5"
        " minutes (0.1 to 50; the seed's 1).",
        default=Decimal(1),
    )
    cpu_percent: int = setting(
        "alarmCpuPercent",
        "Alarm when the fleet's average CPU (EC2 instances; the EKS nodes on tier B) stays above this % for 5"
        " minutes (10 to 100; the seed's 85).",
        default=85,
    )
    memory_percent: int = setting(
        "alarmMemoryPercent",
        "Alarm when the fullest instance's (or EKS node's) memory use stays above this % for 5 minutes (10 to 100;"
        " the seed's 90).",
        default=90,
    )
    disk_percent: int = setting(
        "alarmDiskPercent",
        "Alarm when the fullest instance's (or EKS node's) root disk is above this % for 5 minutes (10 to 100; the"
        " seed's 85).",
        default=85,
    )
    database_connections_percent: int = setting(
        "alarmDatabaseConnectionsPercent",
        "The Atlas alert on open connections fires above this % of the per-node connection limit of"
        " atlasMinInstanceSize (61 to 95: the fleet is sized to stay under 60%; the seed's 80).",
        default=80,
    )
    cache_cpu_percent: int = setting(
        "alarmCacheCpuPercent",
        "ElastiCache (cacheMode elasticache): alarm when a node's engine CPU stays above this % for 5 minutes (10"
        " to 100; 90, ElastiCache's guidance for the single-threaded engine).",
        default=90,
    )
    cache_memory_percent: int = setting(
        "alarmCacheMemoryPercent",
        "ElastiCache: alarm when a node's data uses more than this % of its memory for 15 minutes (10 to 100).",
        default=90,
    )
    cache_evictions_per_minute: int = setting(
        "alarmCacheEvictionsPerMinute",
        "ElastiCache: alarm when a node evicts more keys than this a minute for 10 minutes: the working set no"
        " longer fits (1 to 1000000).",
        default=100,
    )
    cache_replication_lag_seconds: int = setting(
        "alarmCacheReplicationLagSeconds",
        "ElastiCache with a replica: alarm when a replica is more than this many seconds behind for 5 minutes (1"
        " to 3600).",
        default=30,
    )

    @field_validator("latency_p95_ms")
    @classmethod
    def _latency(cls, value: int) -> int:
        _within(value, 50, 60_000, "ms")
        return value

    @field_validator("error_rate_percent", mode="before")
    @classmethod
    def _error_rate_number(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return Decimal(value)
            except ArithmeticError:
                raise ValueError(f"'{value}' is not a number; allowed: 0.1 to 50 (%)") from None
        return value

    @field_validator("error_rate_percent")
    @classmethod
    def _error_rate(cls, value: Decimal) -> Decimal:
        _within(value, Decimal("0.1"), Decimal(50), "%")
        return value

    @field_validator("cpu_percent", "memory_percent", "disk_percent", "cache_cpu_percent", "cache_memory_percent")
    @classmethod
    def _percent(cls, value: int) -> int:
        _within(value, 10, 100, "%")
        return value

    @field_validator("database_connections_percent")
    @classmethod
    def _connections(cls, value: int) -> int:
        if not 61 <= value <= 95:
            raise ValueError(
                f"{value}% is outside the allowed range, 61 to 95%: the fleet is sized to open at most 60% of the"
                " limit, so a lower threshold fires in normal operation, and above 95% nothing is left to act"
            )
        return value

    @field_validator("cache_evictions_per_minute")
    @classmethod
    def _evictions(cls, value: int) -> int:
        _within(value, 1, 1_000_000, "evictions a minute")
        return value

    @field_validator("cache_replication_lag_seconds")
    @classmethod
    def _lag(cls, value: int) -> int:
        _within(value, 1, 3600, "s")
        return value


class WafMode(StrEnum):
    """What the web ACLs' rules do with a request they match."""

    BLOCK = "block"
    """Matching requests are refused (403): required in production."""
    COUNT = "count"
    """Matching requests are only counted and logged: for tuning the rules against real traffic first."""


WAF_RATE_WINDOWS = (60, 120, 300, 600)
"""The evaluation windows (seconds) a WAF rate-based rule accepts."""
_WAF_PATH = re.compile(r"^/[A-Za-z0-9/_.~-]*$")


class FirewallSettings(BaseModel):
    """The WAFv2 web ACLs in front of the load balancer and CloudFront."""

    model_config = _Frozen

    mode: WafMode = setting(
        "wafMode",
        "`block` (refuse what the rules match) or `count` (only count and log it, for tuning; refused in production).",
        default=WafMode.BLOCK,
    )
    rate_limit: int = setting(
        "wafRateLimit",
        "Requests one client IP may make within wafRateWindowSeconds before the rate rule refuses it (10 to"
        " 2000000000; mobile carriers put many users behind one address, so leave room).",
        default=2000,
    )
    rate_window_seconds: int = setting(
        "wafRateWindowSeconds",
        "The rate rule's window in seconds: 60, 120, 300 or 600.",
        default=300,
    )
    large_body_paths: tuple[str, ...] = setting(
        "wafLargeBodyPaths",
        "Comma-separated URL path prefixes (for example /api/imports) whose requests may carry bodies over 8 KB,"
        " which the AWS common rule set otherwise blocks. Empty: none (uploads go straight to S3, never through the"
        " load balancer).",
        default=(),
    )

    @field_validator("rate_limit")
    @classmethod
    def _rate(cls, value: int) -> int:
        _within(value, 10, 2_000_000_000, "requests")
        return value

    @field_validator("rate_window_seconds")
    @classmethod
    def _window(cls, value: int) -> int:
        if value not in WAF_RATE_WINDOWS:
            raise ValueError(f"{value} is not a window WAF offers; allowed: {', '.join(map(str, WAF_RATE_WINDOWS))}")
        return value

    @field_validator("large_body_paths", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        return tuple(item.strip() for item in value.split(",") if item.strip()) if isinstance(value, str) else value

    @field_validator("large_body_paths")
    @classmethod
    def _paths(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        for path in paths:
            if not _WAF_PATH.match(path):
                raise ValueError(
                    f"'{path}' is not a URL path prefix: it starts with / and holds letters, digits, /, _, ., ~, -"
                )
        return tuple(dict.fromkeys(paths))


_HTTPS_URL = re.compile(r"^https://[^\s/?#@]+(/[^\s]*)?$")


class OperationsSettings(BaseModel):
    """Where alerts go, and the audit trail."""

    model_config = _Frozen

    alert_https_endpoints: SecretStr = setting(
        "alertHttpsEndpoints",
        "Comma-separated https:// URLs that receive every alarm besides alertEmail, through SNS (a pager's"
        " CloudWatch/SNS integration URL). A pager's URL carries its key: set it with --secret.",
        default=SecretStr(""),
        secret=True,
    )
    cloud_trail_enabled: bool | None = setting(
        "cloudTrailEnabled",
        "Create a multi-region CloudTrail trail for the account (true or false). Empty: on in production, off"
        " elsewhere. One trail per account is the usual setup: turn it off where the account (or its AWS"
        " Organization) already has one, or its management events are billed as a second copy.",
        default=None,
    )

    @field_validator("alert_https_endpoints")
    @classmethod
    def _endpoints(cls, value: SecretStr) -> SecretStr:
        for index, url in enumerate(_split(value.get_secret_value()), start=1):
            if not _HTTPS_URL.match(url):
                # Never echo the value: a pager URL carries its integration key.
                raise ValueError(
                    f"entry {index} is not an https:// URL without credentials (https://host/path); the value is"
                    " not shown: it is a secret"
                )
        return value

    @property
    def alert_https_endpoint_list(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_split(self.alert_https_endpoints.get_secret_value())))


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


# Background jobs (issue 16): the Celery workers, their scaling and alarms, and the optional Datadog agent.
class WorkerPlacement(StrEnum):
    """Where the Celery workers run on tiers A and C (tier B runs them as a Deployment)."""

    DEDICATED = "dedicated"
    """Their own Auto Scaling group, scaled on queue depth: a burst of jobs never takes the API's CPU. Required in
    production."""
    COLOCATED = "colocated"
    """Tier C outside production only: the worker (and the queue metrics exporter) as extra containers on the app
    instances. Saves the worker instances, but a burst of jobs competes with the API for CPU, and the workers
    scale only with the app fleet."""


JOB_TIME_LIMIT_RANGE: Final = (30, 3600)
"""jobTimeLimitSeconds: at least 30 s (an upload's thumbnail on a large image), at most an hour (a worker that is
stopped waits this long for its running task: a scale-in or deploy must not hang for longer)."""
MAX_WORKER_CONCURRENCY: Final = 64


class JobsSettings(BaseModel):
    """The background job workers (Celery, broker: the stack's Redis) and their alarms."""

    model_config = _Frozen

    worker_instance_type: str = setting(
        "workerInstanceType",
        "Tiers A and C with workerPlacement dedicated: EC2 instance type of the worker fleet (Graviton by preset).",
        tier_preset=True,
    )
    worker_min_size: Annotated[int, Field(ge=1, le=100)] = setting(
        "workerMinSize",
        "Fewest worker instances (workerPlacement dedicated; 1 to 100, 2+ in production).",
        tier_preset=True,
    )
    worker_max_size: Annotated[int, Field(ge=1, le=100)] = setting(
        "workerMaxSize", "Most worker instances queue-depth scaling may run (1 to 100).", tier_preset=True
    )
    worker_concurrency: int = setting(
        "workerConcurrency",
        f"Celery worker processes per worker host or pod (WORKER_CONCURRENCY; 1 to {MAX_WORKER_CONCURRENCY}).",
        tier_preset=True,
    )
    worker_placement: WorkerPlacement = setting(
        "workerPlacement",
        "Tiers A and C: `dedicated` (the workers' own Auto Scaling group; required in production) or `colocated`"
        " (tier C outside production: the worker as a second container on the app instances, cheaper but sharing"
        " their CPU).",
        default=WorkerPlacement.DEDICATED,
    )
    queue_depth_target_per_worker: int = setting(
        "jobQueueDepthTargetPerWorker",
        "Target tracking's target: waiting jobs in the queue per worker host (EC2) or pod (tier B). The fleet grows"
        " when more wait and shrinks when fewer do (1 to 10000).",
        tier_preset=True,
    )
    time_limit_seconds: int = setting(
        "jobTimeLimitSeconds",
        f"Hard time limit of one job in seconds (JOB_TIME_LIMIT_SECONDS; {JOB_TIME_LIMIT_RANGE[0]} to"
        f" {JOB_TIME_LIMIT_RANGE[1]}): a stopping worker is given this long to finish its running jobs.",
        default=300,
    )
    queue_depth_alarm_threshold: int = setting(
        "jobQueueDepthAlarmThreshold",
        "Alarm when more than this many jobs wait in the queue for 10 minutes (1 to 1000000).",
        tier_preset=True,
    )
    oldest_age_alarm_seconds: int = setting(
        "jobOldestAgeAlarmSeconds",
        "Alarm when the oldest queued job has waited longer than this many seconds for 10 minutes (60 to 86400).",
        default=900,
    )

    @field_validator("worker_instance_type")
    @classmethod
    def _known_worker_type(cls, value: str) -> str:
        if value not in ec2_instance_types():
            raise ValueError(f"'{value}' is not an EC2 instance type (for example c7g.large, t4g.small)")
        return value

    @field_validator("worker_concurrency")
    @classmethod
    def _concurrency(cls, value: int) -> int:
        _within(value, 1, MAX_WORKER_CONCURRENCY, "processes")
        return value

    @field_validator("queue_depth_target_per_worker")
    @classmethod
    def _target(cls, value: int) -> int:
        _within(value, 1, 10_000, "jobs")
        return value

    @field_validator("time_limit_seconds")
    @classmethod
    def _time_limit(cls, value: int) -> int:
        _within(value, *JOB_TIME_LIMIT_RANGE, "s")
        return value

    @field_validator("queue_depth_alarm_threshold")
    @classmethod
    def _depth_alarm(cls, value: int) -> int:
        _within(value, 1, 1_000_000, "jobs")
        return value

    @field_validator("oldest_age_alarm_seconds")
    @classmethod
    def _age_alarm(cls, value: int) -> int:
        _within(value, 60, 86_400, "s")
        return value

    @property
    def worker_is_graviton(self) -> bool:
        family = self.worker_instance_type.split(".", 1)[0]
        return re.fullmatch(r"[a-z]+\d+g[a-z]*", family) is not None


DATADOG_SITES: Final = (
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ddog-gov.com",
)
"""Datadog's sites (docs.datadoghq.com/getting_started/site): where an organization's data lives."""
_DATADOG_API_KEY = re.compile(r"^[0-9a-f]{32}$")


class DatadogSettings(BaseModel):
    """The optional Datadog agent (APM traces, logs, host metrics) on every app and worker host or node."""

    model_config = _Frozen

    enabled: bool = setting(
        "datadogEnabled",
        "Run the Datadog agent on every app and worker host (or node) and send traces from the app and the workers"
        " (true or false). Needs datadogApiKey.",
        default=False,
    )
    site: str = setting(
        "datadogSite",
        f"The Datadog site of your organization: {', '.join(DATADOG_SITES)}.",
        default="datadoghq.com",
    )
    api_key: SecretStr = setting(
        "datadogApiKey",
        "The Datadog API key (32 hex digits), required with datadogEnabled: pulumi config set --secret"
        " datadogApiKey <key>. Refused in plain text.",
        default=SecretStr(""),
        secret=True,
        offline_value="0" * 32,
    )

    @field_validator("site")
    @classmethod
    def _site(cls, value: str) -> str:
        if value not in DATADOG_SITES:
            raise ValueError(f"'{value}' is not a Datadog site; allowed: {', '.join(DATADOG_SITES)}")
        return value

    @field_validator("api_key")
    @classmethod
    def _api_key(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value()
        if key and not _DATADOG_API_KEY.match(key):
            # Never echo it: it is a credential.
            raise ValueError("is not a Datadog API key (32 lowercase hex digits); the value is not shown: a secret")
        return value


class StackConfig(BaseModel):
    """Everything the program needs to know about one stack, validated."""

    model_config = _Frozen

    project: str
    stack: str
    region: str = setting("aws:region", "AWS region of every regional resource.", default="us-east-1")
    tier: Tier = setting("tier", "A (100K users on EC2), B (EKS) or C (budget).", default=Tier.C)
    environment: Environment = setting(
        "environment",
        "`development` or `production` (protection, HTTPS, no single point of failure).",
        default=Environment.DEVELOPMENT,
    )
    cost_center: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:/=+@ -]{1,128}$")] = setting(
        "costCenter", "Value of the CostCenter tag on every resource, for the bill.", default="contentry"
    )
    domain: str = setting(
        "domain",
        "Public host name of the API (for example api.contentry.ai). Empty: plain HTTP on the ALB's own name,"
        " refused in production.",
        default="",
        offline_value="api.example.com",
    )
    hosted_zone_id: str = setting(
        "hostedZoneId",
        "Route 53 hosted zone (Z...) that holds `domain`: the certificate is DNS-validated and the API's alias"
        " record created there. Required with a domain.",
        default="",
        offline_value="Z0OFFLINEPLANZONE",
    )
    alert_email: str = setting(
        "alertEmail", "Where alarms and Atlas alerts are sent.", offline_value="alerts@example.com"
    )
    log_retention_days: int = setting(
        "logRetentionDays",
        "Days every log is kept: VPC flow logs, the ALB's and CloudFront's access logs, the app's logs (one of"
        " CloudWatch Logs' retention periods).",
        tier_preset=True,
    )
    monthly_budget_usd: Annotated[Decimal, Field(gt=0, max_digits=9, decimal_places=2)] = setting(
        "monthlyBudgetUsd", "Monthly budget in USD: the cost check fails above it.", tier_preset=True
    )
    cors_origins: tuple[str, ...] = setting(
        "corsOrigins",
        "Browser origins (scheme://host[:port], comma-separated) besides the API's own https://<domain> that may"
        " call the API and upload to the files bucket, for example https://app.contentry.ai (no wildcard; http://"
        " in development only).",
        default=(),
    )
    jwt_key_generation: int = setting(
        "jwtKeyGeneration",
        "Generation of the app's JWT signing key (1, 2, 3, ...). Raise it by one to rotate: a new key signs, tokens"
        " of the previous key still work until the next rotation, older ones are refused, and every instance or"
        " pod rolls. Never lower it. Rotate no more often than the longest token lifetime.",
        default=1,
    )
    network: NetworkSettings
    compute: ComputeSettings
    database: DatabaseSettings
    cache: CacheSettings
    files: FilesSettings
    kubernetes: KubernetesSettings = KubernetesSettings()
    alarms: AlarmSettings = AlarmSettings()
    firewall: FirewallSettings = FirewallSettings()
    operations: OperationsSettings = OperationsSettings()
    jobs: JobsSettings
    datadog: DatadogSettings = DatadogSettings()

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if value not in aws_regions():
            raise ValueError(f"'{value}' is not an AWS region (for example us-east-1, eu-west-1)")
        return value

    @field_validator("domain")
    @classmethod
    def _hostname(cls, value: str) -> str:
        if value and not _HOSTNAME.match(value):
            raise ValueError(f"'{value}' is not a host name (lowercase, for example api.contentry.ai)")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        # Pulumi config values are strings: a comma-separated list (Pulumi.yaml declares every key a string).
        return tuple(item.strip() for item in value.split(",") if item.strip()) if isinstance(value, str) else value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(normalized_origin(origin) for origin in origins))

    @field_validator("jwt_key_generation")
    @classmethod
    def _key_generation(cls, generation: int) -> int:
        if not 1 <= generation <= MAX_JWT_KEY_GENERATION:
            raise ValueError(
                f"{generation} is not a key generation: a whole number from 1 to {MAX_JWT_KEY_GENERATION}; raise it by"
                " one to rotate the app's JWT keys"
            )
        return generation

    @field_validator("log_retention_days")
    @classmethod
    def _cloudwatch_retention(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            allowed = ", ".join(str(d) for d in sorted(LOG_RETENTION_DAYS))
            raise ValueError(f"{days} is not a CloudWatch Logs retention period; allowed: {allowed}")
        return days

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone_id(cls, value: str) -> str:
        if value and not _HOSTED_ZONE_ID.match(value):
            raise ValueError(f"'{value}' is not a Route 53 hosted zone id (Z followed by up to 31 capitals/digits)")
        return value

    @field_validator("alert_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"'{value}' is not an email address")
        return value

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def platform(self) -> ComputePlatform:
        return ComputePlatform.EKS if self.tier is Tier.B else ComputePlatform.EC2

    @property
    def https_enabled(self) -> bool:
        return bool(self.domain)

    @property
    def audit_trail_enabled(self) -> bool:
        """cloudTrailEnabled, or, when unset, whether the stack is production."""
        enabled = self.operations.cloud_trail_enabled
        return self.is_production if enabled is None else enabled

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        """Every browser origin the API and the files bucket accept (CORS): the API's own, then `corsOrigins`."""
        own = (f"https://{self.domain}",) if self.domain else ()
        return tuple(dict.fromkeys((*own, *self.cors_origins)))

    @property
    def dedicated_workers(self) -> bool:
        """Tiers A and C with workerPlacement dedicated: the workers' own Auto Scaling group."""
        return self.platform is ComputePlatform.EC2 and self.jobs.worker_placement is WorkerPlacement.DEDICATED

    @property
    def colocated_workers(self) -> bool:
        """Tier C with workerPlacement colocated: the worker containers on the app instances."""
        return self.platform is ComputePlatform.EC2 and self.jobs.worker_placement is WorkerPlacement.COLOCATED

    @property
    def ec2_job_worker_connections(self) -> int:
        """MongoDB connections per node the EC2 job workers hold at their largest (0 on tier B, whose pods
        jobs-eks budgets): the worker fleet at workerMaxSize, or one worker per app instance when colocated,
        either grown by its rolling refresh's surge."""
        if self.platform is not ComputePlatform.EC2:
            return 0
        hosts = self.jobs.worker_max_size if self.dedicated_workers else self.compute.max_size
        return job_worker_connections(
            max_units=hosts,
            concurrency=self.jobs.worker_concurrency,
            max_healthy_percent=DEPLOY_MAX_HEALTHY_PERCENT,
        )
