"""The kubeconfig the Kubernetes provider (and an operator) uses: the cluster's endpoint and CA, and a token from
`aws eks get-token` on every call (pulumi/pulumi-eks cluster.ts builds the same). No long-lived credential is in
it; the token comes from the ambient AWS credentials of whoever runs it (AWS_PROFILE, the CI's role)."""

from __future__ import annotations

import json


def kubeconfig(*, cluster_name: str, endpoint: str, certificate_authority: str, region: str) -> str:
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["--region", region, "eks", "get-token", "--cluster-name", cluster_name, "--output", "json"],
            "interactiveMode": "Never",
        }
    }
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": certificate_authority}}
        ],
        "users": [{"name": cluster_name, "user": user}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
    }
    return json.dumps(document, sort_keys=True)
