"""The app instances' IAM role and instance profile (built under the fleet component): one inline policy with
exactly the grants in `infra/planning/instance_policy.py`, and no managed policy."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.planning.compute.instance_policy import InstanceGrants, ec2_assume_role_policy, instance_policy_document
from infra.planning.naming import child_name, name_tag


def instance_profile(
    parent: pulumi.Resource,
    name: str,
    *,
    name_prefix: str,
    repository_arn: pulumi.Input[str],
    app_secret_arn: pulumi.Input[str],
    files_bucket_arn: pulumi.Input[str],
    log_group_arn: pulumi.Input[str],
    datadog_secret_arn: pulumi.Input[str] | None = None,
    job_workers: bool = False,
    colocated_jobs: bool = False,
    description: str = "app instances: pull the image, read the app secret, use the files bucket",
    label: str = "app-instance",
) -> aws.iam.InstanceProfile:
    """`job_workers`: the worker fleet's hosts (no bucket listing, their own group's lookup); `colocated_jobs`:
    app instances that also run the job containers (tier C colocated). Either publishes Contentry/Jobs metrics."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        child_name(name, "role"),
        assume_role_policy=ec2_assume_role_policy(),
        description=f"{name_prefix} {description}",
        tags=name_tag(name_prefix, label),
        opts=child,
    )
    policy = aws.iam.RolePolicy(
        child_name(name, "role-policy"),
        role=role.id,
        policy=pulumi.Output.all(
            repository_arn, app_secret_arn, files_bucket_arn, log_group_arn, datadog_secret_arn
        ).apply(
            lambda arns: instance_policy_document(
                InstanceGrants(
                    repository_arn=arns[0],
                    app_secret_arn=arns[1],
                    files_bucket_arn=arns[2],
                    log_group_arn=arns[3],
                    datadog_secret_arn=arns[4],
                    list_files_bucket=not job_workers,
                    publish_job_metrics=job_workers or colocated_jobs,
                    find_own_group=job_workers,
                )
            )
        ),
        opts=child,
    )
    profile = aws.iam.InstanceProfile(
        child_name(name, "profile"),
        role=role.name,
        tags=name_tag(name_prefix, label),
        # Instances launch only once their grants exist: the first boot must be able to read the secret.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[policy]),
    )
    return profile
