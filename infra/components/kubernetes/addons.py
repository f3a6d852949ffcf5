"""EKS managed add-ons at the versions pinned for the cluster's Kubernetes version (never `most_recent`, so
`pulumi up` never upgrades one unasked). Built twice: the node DaemonSets before the node group, CoreDNS and
metrics-server after it (infra/catalog/kubernetes_versions.py says why)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.catalog.kubernetes_versions import ClusterVersion
from infra.planning.naming import child_name, name_tag


@dataclass(frozen=True)
class ClusterAddonsArgs:
    name_prefix: str
    cluster_name: pulumi.Input[str]
    versions: ClusterVersion
    addons: Sequence[str]


class ClusterAddons(pulumi.ComponentResource):
    addons: dict[str, aws.eks.Addon]

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:kubernetes:ClusterAddons", name, None, opts)
        self.addons = {}
        for addon in args.addons:
            self.addons[addon] = aws.eks.Addon(
                child_name(name, addon),
                cluster_name=args.cluster_name,
                addon_name=addon,
                addon_version=args.versions.addons[addon],
                # The program owns their configuration: a hand edit in the cluster is put back, never kept.
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                tags=name_tag(args.name_prefix, "eks-addon", addon),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"addons": list(self.addons)})
