"""S3 buckets (storage, requests, direct internet egress) and ECR repositories."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from infra.cost.model import Category, Kind
from infra.cost.pricing import Bill, PricerSpec, UsageKey

STORED = UsageKey("storageGb", "GB-month", "Average data stored (S3 Standard)")
PUTS = UsageKey("putRequests", "requests/month", "PUT, COPY, POST and LIST requests")
GETS = UsageKey("getRequests", "requests/month", "GET and all other requests (CloudFront origin fetches included)")
EGRESS = UsageKey("internetEgressGb", "GB/month", "Downloads straight from S3 to the internet (0 behind a CDN)")
IMAGES = UsageKey("storageGb", "GB-month", "Image layers the repository keeps (after its lifecycle policy)")

_THOUSAND = Decimal(1000)
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"


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
    egress = bill.usage(EGRESS.name)
    if egress and (cdn := _fronting_distribution(bill)) is not None:
        bill.context.warnings.append(
            f"{bill.resource.name}: served through CloudFront ({cdn}): its internetEgressGb is not charged here; "
            "the distribution's dataOutGb is"
        )
        return
    if egress:
        free = bill.context.allowances.take("internet.data-out", egress, bill.context.prices)
        component = "Data transfer out to the internet"
        if free:
            component += f" (after {free:,} GB free a month per account)"
        bill.add(component, egress - free, "internet.data-out", kind=Kind.USAGE, category=Category.DATA_TRANSFER)


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


_BUCKET = PricerSpec(_bucket, Category.FILES, (STORED, PUTS, GETS, EGRESS))
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
