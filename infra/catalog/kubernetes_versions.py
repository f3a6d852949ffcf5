"""Which Kubernetes versions a cluster may run, and everything pinned per version: the EKS add-ons, the Cluster
Autoscaler image and the Helm charts. One table, so an upgrade is one reviewed change.

Only versions in EKS *standard* support are listed (checked 2026-11, docs.aws.amazon.com/eks/latest/userguide/
kubernetes-versions.html): 1.34's standard support ends 2026-12-02, after which EKS bills extended support at
$0.60 an hour instead of $0.10, so it is left out. The cluster also opts out of extended support
(`upgrade_policy.support_type = STANDARD`): past the date below AWS upgrades the control plane rather than
bill six times more, so plan the upgrade before it.

Add-on versions were not read from `aws eks describe-addon-versions` here (no AWS account offline); they are the
builds a public AWS CDK project pinned for 1.35 (kube-proxy v1.35.2-eksbuild.4, coredns v1.13.2-eksbuild.4,
vpc-cni v1.21.1-eksbuild.5, eks-pod-identity-agent v1.3.10-eksbuild.2, metrics-server v0.8.1-eksbuild.4).
Confirm them before a first `pulumi up` with
`aws eks describe-addon-versions --kubernetes-version 1.35 --addon-name <name>`: EKS refuses an unknown one.
They are pinned, never looked up with `most_recent`, so `pulumi up` never upgrades an add-on unasked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

VPC_CNI: Final = "vpc-cni"
KUBE_PROXY: Final = "kube-proxy"
COREDNS: Final = "coredns"
POD_IDENTITY_AGENT: Final = "eks-pod-identity-agent"
METRICS_SERVER: Final = "metrics-server"
CLOUDWATCH_OBSERVABILITY: Final = "amazon-cloudwatch-observability"
"""Container Insights (the CloudWatch agent as a DaemonSet, node and pod metrics) and Fluent Bit (the containers'
logs to CloudWatch Logs). Not in ADDONS: it runs with its own Pod Identity role, built apart
(infra/components/kubernetes/observability.py), after the nodes."""
ADDONS: Final = (VPC_CNI, KUBE_PROXY, POD_IDENTITY_AGENT, COREDNS, METRICS_SERVER)
"""Every add-on the cluster runs. The cluster is created without EKS's self-managed defaults
(`bootstrap_self_managed_addons=False`), so these managed add-ons are all it has."""
ADDONS_BEFORE_NODES: Final = (VPC_CNI, KUBE_PROXY, POD_IDENTITY_AGENT)
"""DaemonSets a node needs to become Ready (pod networking, Services, pod credentials)."""
ADDONS_AFTER_NODES: Final = (COREDNS, METRICS_SERVER)
"""Deployments: created before any node they stay DEGRADED and time out after 20 minutes
(terraform-aws-modules/terraform-aws-eks#3001, pulumi/pulumi-eks#1525)."""


@dataclass(frozen=True)
class ClusterVersion:
    version: str
    standard_support_ends: dt.date
    addons: MappingProxyType[str, str]
    cluster_autoscaler_image_tag: str
    """The Cluster Autoscaler's minor must equal Kubernetes' (kubernetes/autoscaler cluster-autoscaler README)."""
    observability_addon: str = ""
    """The amazon-cloudwatch-observability add-on's version for this Kubernetes version."""


KUBERNETES_VERSIONS: Final = MappingProxyType(
    {
        "1.35": ClusterVersion(
            version="1.35",
            standard_support_ends=dt.date(2027, 3, 27),
            addons=MappingProxyType(
                {
                    VPC_CNI: "v1.21.1-eksbuild.5",
                    KUBE_PROXY: "v1.35.2-eksbuild.4",
                    POD_IDENTITY_AGENT: "v1.3.10-eksbuild.2",
                    COREDNS: "v1.13.2-eksbuild.4",
                    METRICS_SERVER: "v0.8.1-eksbuild.4",
                }
            ),
            # Tag cluster-autoscaler-1.35.2 (2026-07-22) in kubernetes/autoscaler: the newest 1.35 patch.
            cluster_autoscaler_image_tag="v1.35.2",
            # The build aws-observability/application-signals-demo pins (#334, 2026-04-07): v5.3.0 dropped the
            # agent ClusterRole's cluster-wide ConfigMap read (aws-observability/helm-charts#287), which broke the
            # agent's EKS resource detection. Confirm it is listed for 1.35 before a first `pulumi up`:
            # aws eks describe-addon-versions --kubernetes-version 1.35 --addon-name amazon-cloudwatch-observability
            observability_addon="v4.10.3-eksbuild.1",
        ),
    }
)
DEFAULT_KUBERNETES_VERSION: Final = "1.35"


def cluster_version(version: str) -> ClusterVersion:
    """The pins of `version`; a version outside the table is refused, naming the ones allowed."""
    found = KUBERNETES_VERSIONS.get(version)
    if found is None:
        allowed = ", ".join(KUBERNETES_VERSIONS)
        raise ValueError(
            f"'{version}' is not a Kubernetes version this program runs in EKS standard support; allowed: {allowed}"
        )
    return found


@dataclass(frozen=True)
class HelmChart:
    name: str
    version: str
    repository: str
    app_version: str
    source: str


LOAD_BALANCER_CONTROLLER_CHART: Final = HelmChart(
    name="aws-load-balancer-controller",
    version="3.5.0",
    repository="https://aws.github.io/eks-charts",
    app_version="v3.5.0",
    source="kubernetes-sigs/aws-load-balancer-controller tag v3.5.0, helm/aws-load-balancer-controller/Chart.yaml",
)
CLUSTER_AUTOSCALER_CHART: Final = HelmChart(
    name="cluster-autoscaler",
    version="9.59.0",
    repository="https://kubernetes.github.io/autoscaler",
    app_version="1.35.0",
    source="kubernetes/autoscaler tag cluster-autoscaler-chart-9.59.0, "
    "cluster-autoscaler/charts/cluster-autoscaler/Chart.yaml",
)
KEDA_CHART: Final = HelmChart(
    name="keda",
    version="2.20.2",
    repository="https://kedacore.github.io/charts",
    app_version="2.20.2",
    source="kedacore/charts tag v2.20.2 (2026-07-31), keda/Chart.yaml",
)
"""Scales the job workers on the Redis queue's length (infra/components/kubernetes/job_workers.py). Its CRDs are
chart templates (keda/templates/crds/), not a crds/ folder, so unlike the load balancer controller's a Helm
upgrade does update them."""
KEDA_TESTED_KUBERNETES: Final = ("1.33", "1.34", "1.35")
"""The Kubernetes versions KEDA 2.20 is tested against (keda.sh/docs/2.20/operate/cluster, "Kubernetes
Compatibility"): every version in KUBERNETES_VERSIONS must be one of them (a test checks)."""
DATADOG_CHART: Final = HelmChart(
    name="datadog",
    version="3.240.0",
    repository="https://helm.datadoghq.com",
    app_version="7",
    source="DataDog/helm-charts tag datadog-3.240.0 (2026-08-20), charts/datadog/Chart.yaml",
)
"""The Datadog Agent as a DaemonSet, only with datadogEnabled (infra/components/kubernetes/datadog_agent.py)."""
