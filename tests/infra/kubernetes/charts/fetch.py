"""Refreshes the chart files vendored here, so the tests check the pinned Helm values and the TargetGroupBinding
against what the charts at the pinned versions really define.

    python tests/infra/kubernetes/charts/fetch.py                  # from GitHub (raw files at the release tags)
    python tests/infra/kubernetes/charts/fetch.py --git-dir DIR1 --git-dir DIR2   # from local clones (git show)

The versions come from infra/catalog/kubernetes_versions.py; bump them there, run this, run the tests.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from infra.catalog.kubernetes_versions import (  # noqa: E402
    CLUSTER_AUTOSCALER_CHART,
    DATADOG_CHART,
    KEDA_CHART,
    LOAD_BALANCER_CONTROLLER_CHART,
)

LBC_REPO = "kubernetes-sigs/aws-load-balancer-controller"
CA_REPO = "kubernetes/autoscaler"
KEDA_REPO = "kedacore/charts"
DATADOG_REPO = "DataDog/helm-charts"
FILES = {
    # local path -> (repository, tag, path in the repository)
    "aws-load-balancer-controller/values.yaml": (
        LBC_REPO,
        f"v{LOAD_BALANCER_CONTROLLER_CHART.version}",
        "helm/aws-load-balancer-controller/values.yaml",
    ),
    "aws-load-balancer-controller/crds.yaml": (
        LBC_REPO,
        f"v{LOAD_BALANCER_CONTROLLER_CHART.version}",
        "helm/aws-load-balancer-controller/crds/crds.yaml",
    ),
    "cluster-autoscaler/values.yaml": (
        CA_REPO,
        f"cluster-autoscaler-chart-{CLUSTER_AUTOSCALER_CHART.version}",
        "cluster-autoscaler/charts/cluster-autoscaler/values.yaml",
    ),
    "keda/values.yaml": (KEDA_REPO, f"v{KEDA_CHART.version}", "keda/values.yaml"),
    # KEDA ships its CRDs as chart templates: the template lines are dropped, the schema is plain YAML.
    "keda/scaledobjects.crd.yaml": (KEDA_REPO, f"v{KEDA_CHART.version}", "keda/templates/crds/crd-scaledobjects.yaml"),
    "keda/clustertriggerauthentications.crd.yaml": (
        KEDA_REPO,
        f"v{KEDA_CHART.version}",
        "keda/templates/crds/crd-clustertriggerauthentications.yaml",
    ),
    "datadog/values.yaml": (DATADOG_REPO, f"datadog-{DATADOG_CHART.version}", "charts/datadog/values.yaml"),
}


def read(repository: str, tag: str, path: str, git_dirs: list[str]) -> str:
    for git_dir in git_dirs:
        result = subprocess.run(
            ["git", "--git-dir", git_dir, "show", f"{tag}:{path}"], capture_output=True, text=True, check=False
        )
        if result.returncode == 0:
            return result.stdout
    url = f"https://raw.githubusercontent.com/{repository}/{tag}/{path}"
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read().decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--git-dir", action="append", default=[], help="a local clone's git directory to read from")
    args = parser.parse_args()
    for local, (repository, tag, path) in FILES.items():
        text = read(repository, tag, path, args.git_dir)
        if local.startswith("keda/") and local.endswith(".crd.yaml"):
            text = "\n".join(line for line in text.splitlines() if "{{" not in line) + "\n"
        if local.endswith("crds.yaml"):
            # Only the TargetGroupBinding's definition: the one custom resource the program creates.
            documents = [
                d for d in yaml.safe_load_all(text) if d and d["metadata"]["name"].startswith("targetgroupbindings.")
            ]
            text = yaml.safe_dump(documents[0], sort_keys=False)
            local = local.replace("crds.yaml", "targetgroupbindings.crd.yaml")
        target = HERE / local
        target.parent.mkdir(parents=True, exist_ok=True)
        header = f"# {repository} {tag}:{path} (vendored by tests/infra/kubernetes/charts/fetch.py)\n"
        target.write_text(header + text, encoding="utf-8")
        print(f"wrote {target.relative_to(HERE)}")


if __name__ == "__main__":
    main()
