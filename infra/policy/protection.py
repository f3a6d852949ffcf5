"""Production state survives a mistaken destroy or a replacement: stateful resources are `protect`ed."""

from __future__ import annotations

from collections.abc import Iterator

from infra.policy.model import Resource

STATEFUL_TYPES = (
    "mongodbatlas:index/project:Project",
    "mongodbatlas:index/advancedCluster:AdvancedCluster",
    "mongodbatlas:index/cluster:Cluster",
    "mongodbatlas:index/cloudBackupSchedule:CloudBackupSchedule",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:secretsmanager/secret:Secret",
    "aws:ecr/repository:Repository",
    "aws:cloudwatch/logGroup:LogGroup",
    # Whatever a key encrypted (Kubernetes Secrets, the audit trail, the alerts) is unreadable once it is deleted.
    "aws:kms/key:Key",
    "aws:dynamodb/table:Table",
    "aws:rds/cluster:Cluster",
    "aws:rds/instance:Instance",
    "aws:efs/fileSystem:FileSystem",
)
"""What holds data or history someone would miss. The cache is not here on purpose: it holds nothing MongoDB
cannot rebuild, and production keeps its snapshots instead."""


def protected(resource: Resource) -> Iterator[str]:
    if not resource.protect:
        yield (
            f"{resource.name} holds state but is not protected: pass ResourceOptions(protect=True, "
            "retain_on_delete=True) in production, so the engine refuses to delete it"
        )
