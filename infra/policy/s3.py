"""S3: every bucket private, encrypted and TLS-only; data buckets versioned.

Each property lives in a resource of its own beside the bucket (the provider's recommended form; the inline
bucket arguments are deprecated), so these rules look at the bucket and the resources that configure it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from infra.policy.model import Resource, Stack, get, items

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
ENCRYPTION_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
VERSIONING_TYPES = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")

# Where services write logs into a bucket: such a bucket holds logs, not data, and expires them.
LOG_DESTINATIONS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"), ("targetBucket",)),
    (("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"), ("accessLogs", "bucket")),
    (("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"), ("connectionLogs", "bucket")),
    (("aws:cloudfront/distribution:Distribution",), ("loggingConfig", "bucket")),
    (("aws:ec2/flowLog:FlowLog",), ("logDestination",)),
    (("aws:cloudtrail/trail:Trail",), ("s3BucketName",)),
)


def public_access_blocked(bucket: Resource, stack: Stack) -> Iterator[str]:
    account_wide = [
        block
        for block in stack.of_type(ACCOUNT_PUBLIC_ACCESS_BLOCK)
        if all(get(block.inputs, flag) is True for flag in PUBLIC_ACCESS_FLAGS)
    ]
    if account_wide:
        return
    blocks = stack.referencing(bucket, (PUBLIC_ACCESS_BLOCK,), ("bucket",))
    if not blocks:
        yield (
            f"bucket {bucket.name} has no public access block: add aws.s3.BucketPublicAccessBlock(bucket=<it>.id, "
            "block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True)"
        )
    for block in blocks:
        off = [flag for flag in PUBLIC_ACCESS_FLAGS if get(block.inputs, flag) is not True]
        if off:
            yield (
                f"bucket {bucket.name}: its public access block {block.name} leaves {', '.join(off)} off; set all "
                "four to True"
            )


def encrypted_at_rest(bucket: Resource, stack: Stack) -> Iterator[str]:
    configurations = stack.referencing(bucket, ENCRYPTION_TYPES, ("bucket",))
    algorithms = [
        get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        for configuration in configurations
        for rule in items(configuration.inputs, "rules")
    ]
    if not any(algorithm in SSE_ALGORITHMS for algorithm in algorithms):
        found = f" (found {', '.join(map(str, algorithms))})" if algorithms else ""
        yield (
            f"bucket {bucket.name} has no default encryption{found}: add "
            "aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm AES256 (or aws:kms)"
        )


def data_bucket_versioned(bucket: Resource, stack: Stack) -> Iterator[str]:
    if _is_log_destination(bucket, stack):
        return  # logs expire by design; versioning them would only keep what the lifecycle deletes
    statuses = [
        get(versioning.inputs, "versioningConfiguration", "status")
        for versioning in stack.referencing(bucket, VERSIONING_TYPES, ("bucket",))
    ]
    if "Enabled" not in statuses:
        yield (
            f"bucket {bucket.name} holds data (no service writes logs to it) but is not versioned: add "
            "aws.s3.BucketVersioning with versioning_configuration status 'Enabled', so an overwrite or a delete "
            "can be undone"
        )


def denies_insecure_transport(bucket: Resource, stack: Stack) -> Iterator[str]:
    policies = stack.referencing(bucket, (BUCKET_POLICY,), ("bucket",))
    for policy in policies:
        document = _document(get(policy.inputs, "policy"))
        if document is None:
            yield f"bucket {bucket.name}: the policy of {policy.name} is not a JSON policy document"
        elif any(_denies_plain_http(statement) for statement in _statements(document)):
            return
    yield (
        f"bucket {bucket.name} accepts plain-HTTP requests: give it a bucket policy statement that denies "
        "s3:* to every principal on the bucket and bucket/* when aws:SecureTransport is false"
    )


def _is_log_destination(bucket: Resource, stack: Stack) -> bool:
    return any(stack.referencing(bucket, types, path) for types, path in LOG_DESTINATIONS)


def _document(policy: Any) -> dict[str, Any] | None:
    if isinstance(policy, dict):
        return policy
    if isinstance(policy, str):
        try:
            parsed = json.loads(policy)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    return [s for s in statements if isinstance(s, dict)]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _denies_plain_http(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS")))
    condition = statement.get("Condition", {})
    secure = condition.get("Bool", {}).get("aws:SecureTransport") if isinstance(condition, dict) else None
    resources = [r for r in _as_list(statement.get("Resource")) if isinstance(r, str)]
    return (
        statement.get("Effect") == "Deny"
        and everyone
        and any(action in ("s3:*", "*") for action in _as_list(statement.get("Action")))
        and str(secure).lower() == "false"
        # The bucket itself and its objects: a deny on one leaves the other reachable over HTTP.
        and any(r.endswith("/*") for r in resources)
        and any(not r.endswith("/*") for r in resources)
    )
