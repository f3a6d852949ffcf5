"""The image gate of the deploy: ECR's scan findings for a pushed image, by digest, read before any stack runs it.

The repository scans on push (infra/components/registry.py). A multi-architecture image is an index
whose per-platform manifests are what ECR scans, not the index itself, so the gate reads the index, then waits
for each platform's scan and fails when any has a finding at or above the threshold (default HIGH), or when a
scan fails or never completes. A platform with no scan yet (a registry whose scanning configuration overrides
the repository's) gets one started. Enhanced scanning (Amazon Inspector) reports through the same call.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
"""ECR's severities, lowest first (UNDEFINED and UNTRIAGED are not ranked: reported, never gating)."""
INDEX_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
DONE = frozenset({"COMPLETE", "ACTIVE"})
"""ACTIVE: enhanced scanning scans continuously, and its findings are readable."""
FAILED = frozenset({"FAILED", "UNSUPPORTED_IMAGE", "SCAN_ELIGIBILITY_EXPIRED", "FINDINGS_UNAVAILABLE"})
_IMAGE = re.compile(
    r"^(?P<registry>(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com)/(?P<repository>[^@:]+)"
    r"@(?P<digest>sha256:[a-f0-9]{64})$"
)


class ImageScanError(Exception):
    """Bad input (not an ECR image by digest) or an image that is not in the repository: exit code 2."""


@dataclass(frozen=True)
class EcrImage:
    registry: str
    account: str
    region: str
    repository: str
    digest: str

    @classmethod
    def parse(cls, reference: str) -> EcrImage:
        match = _IMAGE.match(reference)
        if match is None:
            raise ImageScanError(
                f"{reference!r} is not an ECR image by digest: expected "
                "<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits>"
            )
        return cls(**match.groupdict())


@dataclass(frozen=True)
class PlatformScan:
    platform: str
    digest: str
    status: str
    counts: dict[str, int]
    top_findings: tuple[str, ...] = ()
    problem: str = ""

    def blocking(self, threshold: str) -> dict[str, int]:
        ranked = SEVERITIES[SEVERITIES.index(threshold) :]
        return {severity: n for severity, n in self.counts.items() if severity in ranked and n}


@dataclass(frozen=True)
class GateOptions:
    threshold: str = "HIGH"
    wait_seconds: float = 600
    """How long to wait for each scan (basic scans take a minute or two)."""
    interval_seconds: float = 10
    start_scan_after_seconds: float = 60
    """A platform without a scan by then gets one started (scan on push may be overridden registry-wide)."""


def platform_manifests(ecr: Any, image: EcrImage) -> list[tuple[str, str]]:
    """(platform, digest) of each image the reference names: the index's entries, or the image itself."""
    try:
        found = ecr.batch_get_image(
            repositoryName=image.repository,
            registryId=image.account,
            imageIds=[{"imageDigest": image.digest}],
            acceptedMediaTypes=[*INDEX_MEDIA_TYPES, *MANIFEST_MEDIA_TYPES],
        )
    except ClientError as error:
        raise ImageScanError(f"reading {image.repository}@{image.digest}: {error}") from None
    if not found.get("images"):
        reasons = "; ".join(f.get("failureReason", "") for f in found.get("failures", []))
        raise ImageScanError(f"{image.repository}@{image.digest} is not in the repository ({reasons or 'not found'})")
    manifest = json.loads(found["images"][0]["imageManifest"])
    media_type = found["images"][0].get("imageManifestMediaType") or manifest.get("mediaType", "")
    if media_type not in INDEX_MEDIA_TYPES:
        return [("single", image.digest)]
    platforms = []
    for entry in manifest.get("manifests", []):
        platform = entry.get("platform", {})
        label = f"{platform.get('os', '?')}/{platform.get('architecture', '?')}"
        if label == "unknown/unknown":
            continue  # an attestation manifest (provenance), not a runnable image
        platforms.append((label, entry["digest"]))
    if not platforms:
        raise ImageScanError(f"the index {image.digest} lists no platform image")
    return platforms


def _findings(ecr: Any, image: EcrImage, digest: str) -> dict[str, Any] | None:
    try:
        return ecr.describe_image_scan_findings(
            repositoryName=image.repository, registryId=image.account, imageId={"imageDigest": digest}
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ScanNotFoundException":
            return None
        raise


def _top_findings(findings: dict[str, Any], threshold: str) -> tuple[str, ...]:
    ranked = set(SEVERITIES[SEVERITIES.index(threshold) :])
    names = [f"{f['name']} ({f['severity']})" for f in findings.get("findings", []) if f.get("severity") in ranked]
    for enhanced in findings.get("enhancedFindings", []):
        if enhanced.get("severity") in ranked:
            vulnerability = enhanced.get("packageVulnerabilityDetails", {}).get("vulnerabilityId", enhanced["title"])
            names.append(f"{vulnerability} ({enhanced['severity']})")
    return tuple(names[:10])


def scan_platform(
    ecr: Any,
    image: EcrImage,
    platform: str,
    digest: str,
    options: GateOptions,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> PlatformScan:
    started = clock()
    scan_requested = False
    while True:
        response = _findings(ecr, image, digest)
        elapsed = clock() - started
        status = "NOT_STARTED" if response is None else response["imageScanStatus"]["status"]
        if status in DONE and response is not None:
            findings = response.get("imageScanFindings", {})
            counts = {k: int(v) for k, v in findings.get("findingSeverityCounts", {}).items()}
            return PlatformScan(platform, digest, status, counts, _top_findings(findings, options.threshold))
        if status in FAILED:
            reason = response["imageScanStatus"].get("description", "") if response is not None else ""
            return PlatformScan(platform, digest, status, {}, problem=f"the scan ended {status}: {reason}")
        if response is None and not scan_requested and elapsed >= options.start_scan_after_seconds:
            ecr.start_image_scan(
                repositoryName=image.repository, registryId=image.account, imageId={"imageDigest": digest}
            )
            scan_requested = True
            continue
        if elapsed + options.interval_seconds > options.wait_seconds:
            return PlatformScan(
                platform, digest, status, {}, problem=f"no scan result after {options.wait_seconds:g} s ({status})"
            )
        sleep(options.interval_seconds)


def gate(
    ecr: Any,
    image: EcrImage,
    options: GateOptions,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[PlatformScan]:
    return [
        scan_platform(ecr, image, platform, digest, options, clock, sleep)
        for platform, digest in platform_manifests(ecr, image)
    ]


def passed(scans: Sequence[PlatformScan], threshold: str) -> bool:
    return all(not s.problem and not s.blocking(threshold) for s in scans)


def report_lines(scans: Sequence[PlatformScan], threshold: str) -> list[str]:
    lines = []
    for scan in scans:
        counts = ", ".join(f"{severity} {n}" for severity, n in sorted(scan.counts.items())) or "no findings"
        if scan.problem:
            lines.append(f"FAIL {scan.platform} {scan.digest}: {scan.problem}")
        elif blocking := scan.blocking(threshold):
            shown = ", ".join(f"{n} {severity}" for severity, n in blocking.items())
            lines.append(f"FAIL {scan.platform} {scan.digest}: {shown} (at or above {threshold}); {counts}")
            lines += [f"       {name}" for name in scan.top_findings]
        else:
            lines.append(f"ok   {scan.platform} {scan.digest}: {counts} (nothing at or above {threshold})")
    return lines
