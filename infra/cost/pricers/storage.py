"""S3 buckets (Standard and Standard-IA storage, requests, direct internet egress) and ECR repositories."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from infra.cost.model import Category, Kind
from infra.cost.pricers.network import internet_egress
from infra.cost.pricing import Bill, PricerSpec, UsageKey, integer

STORED = UsageKey("storageGb", "GB-month", "Average data stored in S3 Standard")
PUTS = UsageKey("putRequests", "requests/month", "PUT, COPY, POST and LIST requests")
GETS = UsageKey(
    "getRequests", "requests/month", "GET and other requests to Standard objects (CloudFront origin fetches included)"
)
EGRESS = UsageKey("internetEgressGb", "GB/month", "Downloads straight from S3 to the internet (0 behind a CDN)")
IA_STORED = UsageKey(
    "infrequentAccessStorageGb", "GB-month", "Average data in S3 Standard-IA (moved there by a lifecycle rule)"
)
IA_GETS = UsageKey("infrequentAccessGetRequests", "requests/month", "GET requests to Standard-IA objects")
IA_RETRIEVED = UsageKey("infrequentAccessRetrievalGb", "GB/month", "Data read back from Standard-IA")
TRANSITIONS = UsageKey("lifecycleTransitions", "requests/month", "Objects a lifecycle rule moves to Standard-IA")
IMAGES = UsageKey("storageGb", "GB-month", "Image layers the repository keeps (after its lifecycle policy)")

_THOUSAND = Decimal(1000)
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
LIFECYCLE_TYPES = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
INFREQUENT_ACCESS = "STANDARD_IA"


def _bucket(bill: Bill) -> None:
    stored = bill.usage(STORED.name)
    if stored is not None:
        bill.add("Storage (S3 Standard)", stored, "s3.standard.storage", kind=Kind.USAGE)
    puts = bill.usage(PUTS.name)
    if puts is not None:
        bill.add("PUT, COPY, POST, LIST requests", puts / _THOUSAND, "s3.standard.put", kind=Kind.USAGE)
    gets = bill.usage(GETS.name)
    if gets is not None:
        bill.add("GET and other requests", gets / _THOUSAND, "s3.standard.get", kind=Kind.USAGE)
    _infrequent_access(bill)
    egress = bill.usage(EGRESS.name)
    if egress and (cdn := _fronting_distribution(bill)) is not None:
        bill.context.warnings.append(
            f"{bill.resource.name}: served through CloudFront ({cdn}): its internetEgressGb is not charged here; "
            "the distribution's dataOutGb is"
        )
        return
    if egress:
        internet_egress(bill, egress)


def _lifecycle_days_to_infrequent_access(bill: Bill) -> int | None:
    """After how many days this bucket's lifecycle configuration moves objects to Standard-IA, if it does."""
    names = {f"{bill.resource.name}-id", bill.resource.get("bucket")} - {None}
    for type_token in LIFECYCLE_TYPES:
        for config in bill.context.plan.of_type(type_token):
            same_component = config.parent == bill.resource.parent and config.name.startswith(f"{bill.resource.name}-")
            if config.get("bucket") not in names and not same_component:
                continue
            for rule in config.get("rules", default=[]):
                if not isinstance(rule, Mapping) or rule.get("status") == "Disabled":
                    continue
                for transition in rule.get("transitions") or []:
                    if isinstance(transition, Mapping) and transition.get("storageClass") == INFREQUENT_ACCESS:
                        return integer(transition.get("days"))
    return None


def _infrequent_access(bill: Bill) -> None:
    """Standard-IA storage and its fees, from optional usage keys, checked against the plan's lifecycle rules so
    that the usage never contradicts what the bucket does."""
    usage = bill.context.usage_of(bill.resource)
    stored = usage.get(IA_STORED.name, Decimal(0))
    days = _lifecycle_days_to_infrequent_access(bill)
    if days is not None and not stored:
        bill.context.warnings.append(
            f"{bill.resource.name}: its lifecycle moves objects to {INFREQUENT_ACCESS} after {days} days, but the "
            f"usage puts none there ({IA_STORED.name}): all of it is priced as S3 Standard"
        )
    if days is None and stored:
        bill.context.warnings.append(
            f"{bill.resource.name}: the usage puts {stored:,} GB in {INFREQUENT_ACCESS} ({IA_STORED.name}), but no "
            "lifecycle rule of the bucket moves objects there"
        )
    for key, component, price, divisor in (
        (IA_STORED, "Storage (S3 Standard-IA)", "s3.standard-ia.storage", Decimal(1)),
        (TRANSITIONS, "Lifecycle transitions to Standard-IA", "s3.standard-ia.transition", _THOUSAND),
        (IA_GETS, "GET requests (Standard-IA)", "s3.standard-ia.get", _THOUSAND),
        (IA_RETRIEVED, "Retrievals (Standard-IA)", "s3.standard-ia.retrieval", Decimal(1)),
    ):
        amount = usage.get(key.name)
        if amount:
            bill.add(component, amount / divisor, price, kind=Kind.USAGE)


def _fronting_distribution(bill: Bill) -> str | None:
    """The CloudFront distribution whose origin is this bucket (by the bucket's name or the offline plan's
    `<name>-...` domain), if any: then viewers download through the CDN, not from S3."""
    names = {bill.resource.get("bucket"), bill.resource.name} - {None}
    for distribution in bill.context.plan.of_type(DISTRIBUTION):
        for origin in distribution.get("origins", default=[]):
            domain = str(origin.get("domainName", "")) if isinstance(origin, Mapping) else ""
            bucket_part = domain.split(".s3.", 1)[0]
            if ".s3." in domain and any(bucket_part == n or bucket_part.startswith(f"{n}-") for n in names):
                return distribution.name
    return None


def _repository(bill: Bill) -> None:
    stored = bill.usage(IMAGES.name)
    if stored is not None:
        bill.add("Image storage", stored, "ecr.storage", kind=Kind.USAGE)


_BUCKET = PricerSpec(
    _bucket, Category.FILES, (STORED, PUTS, GETS, EGRESS, IA_STORED, IA_GETS, IA_RETRIEVED, TRANSITIONS)
)
PRICERS = {
    "aws:s3/bucket:Bucket": _BUCKET,
    "aws:s3/bucketV2:BucketV2": _BUCKET,
    "aws:ecr/repository:Repository": PricerSpec(_repository, Category.FILES, (IMAGES,)),
}

_ON_THE_BUCKET = "bucket configuration: storage and requests are priced on the bucket"
FREE = {
    f"aws:s3/{name}": _ON_THE_BUCKET
    for name in (
        "bucketPublicAccessBlock:BucketPublicAccessBlock",
        "bucketVersioning:BucketVersioning",
        "bucketVersioningV2:BucketVersioningV2",
        "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
        "bucketPolicy:BucketPolicy",
        "bucketOwnershipControls:BucketOwnershipControls",
        "bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
        "bucketCorsConfiguration:BucketCorsConfiguration",
        "bucketCorsConfigurationV2:BucketCorsConfigurationV2",
        "bucketLogging:BucketLogging",
        "bucketLoggingV2:BucketLoggingV2",
        "bucketAcl:BucketAcl",
        "bucketAclV2:BucketAclV2",
        "bucketNotification:BucketNotification",
    )
} | {
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "no charge (it lowers the repository's storage)",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "no charge",
}
