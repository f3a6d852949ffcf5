"""EKS clusters and node groups: Kubernetes Secrets envelope-encrypted with a KMS key, the control plane's audit
logs on, an API endpoint that is private or restricted to known addresses, access entries rather than the
aws-auth ConfigMap, and nodes that keep their instance credentials to themselves (IMDSv2, hop limit 1)."""

from __future__ import annotations

from collections.abc import Iterator

from infra.policy.ec2 import LAUNCH_TEMPLATE
from infra.policy.model import Resource, Stack, get, items, present

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
REQUIRED_LOG_TYPES = ("api", "audit", "authenticator")
ANYWHERE = "0.0.0.0/0"
NODE_HOP_LIMIT = 1


def secrets_encrypted(cluster: Resource) -> Iterator[str]:
    configs = items(cluster.inputs, "encryptionConfig")
    encrypted = [
        config
        for config in configs
        if "secrets" in items(config, "resources") and present(config, "provider", "keyArn")
    ]
    if not encrypted:
        yield (
            f"{cluster.name} does not envelope-encrypt Kubernetes Secrets with a KMS key: set encryption_config "
            "(resources ['secrets'], provider key_arn of a customer-managed key with rotation on)"
        )


def control_plane_logging(cluster: Resource) -> Iterator[str]:
    enabled = set(items(cluster.inputs, "enabledClusterLogTypes"))
    missing = [log for log in REQUIRED_LOG_TYPES if log not in enabled]
    if missing:
        yield (
            f"{cluster.name} does not log {', '.join(missing)}: set enabled_cluster_log_types to include "
            f"{', '.join(REQUIRED_LOG_TYPES)} (who called the API, what they did, who authenticated)"
        )


def endpoint_not_open(cluster: Resource) -> Iterator[str]:
    if get(cluster.inputs, "vpcConfig", "endpointPrivateAccess") is not True:
        yield (
            f"{cluster.name} has no private API endpoint: set vpc_config endpoint_private_access=True, so nodes and "
            "pods reach the API inside the VPC"
        )
    public = get(cluster.inputs, "vpcConfig", "endpointPublicAccess")
    if public is False:
        return
    cidrs = items(cluster.inputs, "vpcConfig", "publicAccessCidrs")
    if not cidrs or ANYWHERE in cidrs:
        yield (
            f"{cluster.name} exposes its API endpoint to the whole internet (public access "
            f"{'from 0.0.0.0/0' if cidrs else 'with no CIDRs, which EKS reads as 0.0.0.0/0'}): turn public access off "
            "or list the addresses that need it in public_access_cidrs (clusterPublicAccessCidrs)"
        )


def access_entries_only(cluster: Resource) -> Iterator[str]:
    mode = get(cluster.inputs, "accessConfig", "authenticationMode")
    if mode != "API":
        yield (
            f"{cluster.name} authenticates through the aws-auth ConfigMap ({mode or 'CONFIG_MAP by default'}): set "
            "access_config authentication_mode='API' and grant access with EKS access entries"
        )


def node_metadata_locked(group: Resource, stack: Stack) -> Iterator[str]:
    templates = stack.referenced(group, ("launchTemplate", "id"), (LAUNCH_TEMPLATE,))
    if not templates:
        yield (
            f"{group.name} has no launch template of its own, so its nodes take EKS's default metadata options "
            "(IMDSv1 allowed, hop limit 2): give it a launch template with http_tokens='required' and "
            f"http_put_response_hop_limit={NODE_HOP_LIMIT}"
        )
        return
    for template in templates:
        tokens = get(template.inputs, "metadataOptions", "httpTokens")
        hops = get(template.inputs, "metadataOptions", "httpPutResponseHopLimit")
        if tokens != "required" or hops != NODE_HOP_LIMIT:
            yield (
                f"{group.name}'s launch template {template.name} lets pods reach the node's credentials (httpTokens "
                f"{tokens or 'unset'}, hop limit {hops or 'unset'}): set http_tokens='required' and "
                f"http_put_response_hop_limit={NODE_HOP_LIMIT}; pods get AWS access from their own Pod Identity role"
            )
