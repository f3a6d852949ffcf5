"""Pods, wherever a workload declares them (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod): the Pod
Security Standards' `restricted` settings, resource requests and limits, and health probes.

Each rule reads the pod template, pod-level settings counting for every container where Kubernetes inherits
them (runAsNonRoot, runAsUser, seccompProfile). Helm releases are not expanded here: their charts' pods are
checked by the namespace's Pod Security Admission at deploy time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infra.policy.model import Resource, get, items, present

_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")
WORKLOAD_TYPES = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Pod",
)
ALLOWED_ADDED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
"""The only capability the restricted profile lets a container add back."""


def pod_spec(resource: Resource) -> Any:
    kind = resource.type.rsplit(":", 1)[1]
    if kind == "Pod":
        return get(resource.inputs, "spec")
    if kind == "CronJob":
        return get(resource.inputs, "spec", "jobTemplate", "spec", "template", "spec")
    if kind in _TEMPLATE_KINDS:
        return get(resource.inputs, "spec", "template", "spec")
    return None


def _containers(spec: Any, *, with_init: bool = True) -> list[tuple[str, Any]]:
    groups = ("initContainers", "containers") if with_init else ("containers",)
    return [(str(get(c, "name") or f"{group}[{i}]"), c) for group in groups for i, c in enumerate(items(spec, group))]


def _effective(spec: Any, container: Any, *path: str) -> Any:
    """A container's security setting, or the pod's when the container does not set it."""
    value = get(container, "securityContext", *path)
    return value if value is not None else get(spec, "securityContext", *path)


def _each_container(resource: Resource, *, with_init: bool = True) -> Iterator[tuple[Any, str, Any]]:
    spec = pod_spec(resource)
    if spec is None:
        return
    for name, container in _containers(spec, with_init=with_init):
        yield spec, name, container


def runs_as_non_root(resource: Resource) -> Iterator[str]:
    for spec, name, container in _each_container(resource):
        if _effective(spec, container, "runAsNonRoot") is not True or _effective(spec, container, "runAsUser") == 0:
            yield (
                f"{resource.name}: container {name} may run as root: set securityContext runAsNonRoot=True and a "
                "numeric non-zero runAsUser (the image's user)"
            )


def read_only_root_filesystem(resource: Resource) -> Iterator[str]:
    for _, name, container in _each_container(resource):
        if get(container, "securityContext", "readOnlyRootFilesystem") is not True:
            yield (
                f"{resource.name}: container {name} can write its root filesystem: set securityContext "
                "readOnlyRootFilesystem=True and mount an emptyDir where it needs scratch space"
            )


def no_privilege_escalation(resource: Resource) -> Iterator[str]:
    for _, name, container in _each_container(resource):
        if get(container, "securityContext", "allowPrivilegeEscalation") is not False:
            yield f"{resource.name}: container {name} may gain privileges: set allowPrivilegeEscalation=False"
        if get(container, "securityContext", "privileged") is True:
            yield f"{resource.name}: container {name} is privileged (the host's root): remove privileged=True"


def drops_all_capabilities(resource: Resource) -> Iterator[str]:
    for _, name, container in _each_container(resource):
        dropped = items(container, "securityContext", "capabilities", "drop")
        added = set(items(container, "securityContext", "capabilities", "add")) - ALLOWED_ADDED_CAPABILITIES
        if "ALL" not in dropped or added:
            kept = ", ".join(sorted(added)) or "not all dropped"
            yield (
                f"{resource.name}: container {name} keeps Linux capabilities ({kept}):"
                " set securityContext capabilities drop ['ALL'] (add back NET_BIND_SERVICE at most)"
            )


def seccomp_runtime_default(resource: Resource) -> Iterator[str]:
    for spec, name, container in _each_container(resource):
        if _effective(spec, container, "seccompProfile", "type") not in ("RuntimeDefault", "Localhost"):
            yield (
                f"{resource.name}: container {name} runs without a seccomp profile: set securityContext "
                "seccompProfile type RuntimeDefault (on the pod or the container)"
            )


def resources_bounded(resource: Resource) -> Iterator[str]:
    for _, name, container in _each_container(resource):
        missing = [
            f"{kind}.{what}"
            for kind in ("requests", "limits")
            for what in ("cpu", "memory")
            if not present(container, "resources", kind, what)
        ]
        if missing:
            yield (
                f"{resource.name}: container {name} has no {', '.join(missing)}: set resources requests and limits "
                "for cpu and memory, so the scheduler places it and a leak cannot starve its node"
            )


def probed(resource: Resource) -> Iterator[str]:
    for _, name, container in _each_container(resource, with_init=False):
        missing = [probe for probe in ("livenessProbe", "readinessProbe") if not present(container, probe)]
        if missing:
            yield (
                f"{resource.name}: container {name} has no {' or '.join(missing)}: Kubernetes cannot tell a hung "
                "process (liveness) or one that should not get traffic (readiness)"
            )


NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
PRIVILEGED_NAMESPACES = {
    "datadog": "the Datadog Agent's DaemonSet reads the host (procfs, cgroups, pod logs) through hostPath volumes and"
    " takes traces on a hostPort (datadogEnabled only)",
}
"""The one exception to Pod Security `restricted`, named with its reason; every other namespace enforces it."""


def namespace_enforces_restricted(resource: Resource) -> Iterator[str]:
    name = get(resource.inputs, "metadata", "name")
    enforced = get(resource.inputs, "metadata", "labels", "pod-security.kubernetes.io/enforce")
    if name in PRIVILEGED_NAMESPACES or enforced == "restricted":
        return
    yield (
        f"{resource.name}: namespace {name} enforces Pod Security '{enforced or 'nothing'}': label it"
        " pod-security.kubernetes.io/enforce=restricted (only "
        + ", ".join(sorted(PRIVILEGED_NAMESPACES))
        + " may be privileged)"
    )
