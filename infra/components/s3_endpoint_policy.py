"""The VPC's S3 gateway endpoint limited to the buckets it serves (policy: infra/planning/s3_endpoint_policy.py).

A resource of its own, created after the data tier: the network (and its endpoint) exists before the buckets,
and the buckets' names are generated, so the endpoint cannot name them when it is created. The separate
VpcEndpointPolicy takes them once they exist; the endpoint itself declares no policy, so the two never fight
over it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.planning.naming import child_name
from infra.planning.s3_endpoint_policy import s3_endpoint_policy


@dataclass(frozen=True)
class S3EndpointPolicyArgs:
    endpoint_id: pulumi.Input[str]
    region: str
    stack_bucket_arns: Sequence[pulumi.Input[str]]
    """The stack's data buckets the VPC's workloads use (the uploads bucket)."""


class S3EndpointPolicy(pulumi.ComponentResource):
    def __init__(self, name: str, args: S3EndpointPolicyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:network:S3EndpointPolicy", name, None, opts)
        policy = aws.ec2.VpcEndpointPolicy(
            child_name(name, "policy"),
            vpc_endpoint_id=args.endpoint_id,
            policy=pulumi.Output.all(*args.stack_bucket_arns).apply(
                lambda arns: s3_endpoint_policy(region=args.region, stack_bucket_arns=arns)
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.policy_id = policy.id
        self.register_outputs({"policyId": self.policy_id})
