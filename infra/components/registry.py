"""The app image's ECR repository: scanned on push, immutable tags, a bounded history of releases.

The program never builds or pushes the image: CI (or an engineer) pushes a multi-architecture build here and
sets `appImageTag`; the fleet runs exactly that tag or digest.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config import StackConfig
from infra.planning.compute.registry import IMAGES_KEPT, lifecycle_policy
from infra.planning.naming import child_name, name_tag
from infra.planning.protection import Protection, protection_for


@dataclass(frozen=True)
class ImageRepositoryArgs:
    name_prefix: str
    repository_name: str
    """A fixed, readable name (`contentry-prod/api`): CI pushes to it before the fleet can start."""
    guard: Protection
    """Production: the engine refuses to delete the repository the running fleet pulls from, and keeps it if
    it leaves the program; development: `pulumi destroy` deletes it with its images."""
    images_kept: int = IMAGES_KEPT


class ImageRepository(pulumi.ComponentResource):
    repository_url: pulumi.Output[str]
    repository_arn: pulumi.Output[str]
    repository_name: pulumi.Output[str]

    def __init__(self, name: str, args: ImageRepositoryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:registry:ImageRepository", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        repository = aws.ecr.Repository(
            child_name(name, "repository"),
            name=args.repository_name,
            # A tag names one build forever: what runs is what was tested, and a rollback gets the same bytes.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="AES256")],
            force_delete=args.guard.force_destroy_buckets,
            tags=name_tag(args.name_prefix, "api-images"),
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.guard.protect, retain_on_delete=args.guard.retain_on_delete
            ),
        )
        aws.ecr.LifecyclePolicy(
            child_name(name, "lifecycle"),
            repository=repository.name,
            policy=lifecycle_policy(args.images_kept),
            opts=child,
        )
        self.repository_url = repository.repository_url
        self.repository_arn = repository.arn
        self.repository_name = repository.name
        self.register_outputs(
            {"repositoryUrl": self.repository_url, "repositoryArn": self.repository_arn, "name": self.repository_name}
        )


def image_repository(config: StackConfig, opts: pulumi.ResourceOptions) -> ImageRepository:
    name_prefix = f"{config.project}-{config.stack}"
    return ImageRepository(
        "registry",
        ImageRepositoryArgs(
            name_prefix=name_prefix,
            repository_name=f"{name_prefix}/api",
            guard=protection_for(config.is_production),
        ),
        opts=opts,
    )
