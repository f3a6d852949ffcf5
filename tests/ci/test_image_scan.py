"""The deploy's image gate against moto's ECR: a multi-architecture index is resolved to its platform images,
each one's scan is read (started when none exists), and a finding at or above the threshold fails the gate."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from infra.ci.image_scan import EcrImage, GateOptions, ImageScanError, gate, passed, platform_manifests, report_lines
from infra.cli import run
from tests.app.support import FakeClock

REGION = "us-east-1"
REPOSITORY = "contentry-dev/api"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@pytest.fixture(autouse=True)
def _aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


def _digest(document: str) -> str:
    return "sha256:" + hashlib.sha256(document.encode()).hexdigest()


def _manifest(arch: str) -> str:
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 1, "digest": _digest(arch)}
    config = {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 1, "digest": _digest(arch + "c")}
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [layer]})


def _push_multi_arch(ecr: Any) -> tuple[EcrImage, dict[str, str]]:
    """An index over amd64 and arm64, pushed as buildx pushes it: children untagged, the index tagged."""
    ecr.create_repository(repositoryName=REPOSITORY, imageScanningConfiguration={"scanOnPush": True})
    children = {}
    entries = []
    for arch in ("amd64", "arm64"):
        manifest = _manifest(arch)
        digest = ecr.put_image(repositoryName=REPOSITORY, imageManifest=manifest, imageManifestMediaType=OCI_MANIFEST)[
            "image"
        ]["imageId"]["imageDigest"]
        children[f"linux/{arch}"] = digest
        entries.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": digest,
                "size": len(manifest),
                "platform": {"os": "linux", "architecture": arch},
            }
        )
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    pushed = ecr.put_image(
        repositoryName=REPOSITORY, imageManifest=index, imageManifestMediaType=OCI_INDEX, imageTag="0123abc"
    )["image"]["imageId"]["imageDigest"]
    account = boto3.client("sts").get_caller_identity()["Account"]
    image = EcrImage.parse(f"{account}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}@{pushed}")
    return image, children


def _scan_result(digest: str, counts: dict[str, int], findings: list[dict[str, Any]]) -> None:
    """Moto's way to say what ECR's scan of one image found."""
    result = {
        "imageScanFindings": {"findings": findings, "findingSeverityCounts": counts},
        "repositoryName": REPOSITORY,
        # moto matches a result by tag OR digest, and an untagged platform image's tag (None) would match any
        # result without one: a tag no image has makes the digest decide.
        "imageId": {"imageDigest": digest, "imageTag": "matched-by-digest"},
        "imageScanStatus": {"status": "COMPLETE", "description": "The scan was completed successfully."},
    }
    response = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/ecr/scan-finding-results",
        json={"results": [result], "region": REGION},
        timeout=10,
    )
    response.raise_for_status()


def _fast() -> GateOptions:
    return GateOptions(threshold="HIGH", wait_seconds=600, interval_seconds=10, start_scan_after_seconds=30)


def test_an_index_resolves_to_its_platform_images() -> None:
    ecr = boto3.client("ecr", region_name=REGION)
    image, children = _push_multi_arch(ecr)
    assert platform_manifests(ecr, image) == list(children.items())


def test_clean_platforms_pass_and_a_missing_scan_gets_started() -> None:
    ecr = boto3.client("ecr", region_name=REGION)
    image, children = _push_multi_arch(ecr)
    for digest in children.values():
        _scan_result(digest, {"LOW": 3, "MEDIUM": 1}, [])
    clock = FakeClock()
    scans = gate(ecr, image, _fast(), clock=clock, sleep=clock.advance)
    assert [s.platform for s in scans] == ["linux/amd64", "linux/arm64"]
    assert all(s.status == "COMPLETE" for s in scans)
    assert passed(scans, "HIGH")
    # moto does not scan on push: the gate waited for the scan, then started it.
    assert clock.now - 1000.0 >= 2 * 30
    assert report_lines(scans, "HIGH")[0].startswith("ok   linux/amd64 sha256:")


def test_a_high_finding_on_one_platform_fails_naming_it() -> None:
    ecr = boto3.client("ecr", region_name=REGION)
    image, children = _push_multi_arch(ecr)
    _scan_result(children["linux/amd64"], {"LOW": 1}, [])
    _scan_result(
        children["linux/arm64"],
        {"HIGH": 1, "LOW": 2},
        [{"name": "CVE-2026-0001", "severity": "HIGH", "uri": "https://example.com", "attributes": []}],
    )
    clock = FakeClock()
    scans = gate(ecr, image, _fast(), clock=clock, sleep=clock.advance)
    assert not passed(scans, "HIGH")
    assert passed(scans, "CRITICAL")  # the threshold decides
    lines = report_lines(scans, "HIGH")
    assert lines[0].startswith("ok   linux/amd64")
    assert lines[1].startswith(f"FAIL linux/arm64 {children['linux/arm64']}: 1 HIGH (at or above HIGH)")
    assert lines[2].strip() == "CVE-2026-0001 (HIGH)"


def test_a_scan_that_never_completes_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    ecr = boto3.client("ecr", region_name=REGION)
    image, _ = _push_multi_arch(ecr)
    monkeypatch.setattr(ecr, "describe_image_scan_findings", lambda **_: {"imageScanStatus": {"status": "PENDING"}})
    clock = FakeClock()
    scans = gate(ecr, image, GateOptions(wait_seconds=120, interval_seconds=10), clock=clock, sleep=clock.advance)
    assert not passed(scans, "HIGH")
    assert scans[0].problem == "no scan result after 120 s (PENDING)"
    assert clock.now - 1000.0 <= 2 * 120  # bounded: it gives up at the wait, per platform


def test_bad_references_are_input_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ImageScanError, match="not an ECR image by digest"):
        EcrImage.parse(f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}:latest")
    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName=REPOSITORY)
    missing = EcrImage.parse(f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}@sha256:{'0' * 64}")
    with pytest.raises(ImageScanError, match="is not in the repository"):
        platform_manifests(ecr, missing)
    assert run(["ci", "image-scan", "--image", "nginx:latest"]) == 2
    assert "not an ECR image by digest" in capsys.readouterr().err


def test_the_command_exits_1_on_a_blocking_finding(capsys: pytest.CaptureFixture[str]) -> None:
    ecr = boto3.client("ecr", region_name=REGION)
    image, children = _push_multi_arch(ecr)
    for digest in children.values():
        _scan_result(digest, {"CRITICAL": 1}, [{"name": "CVE-2026-0002", "severity": "CRITICAL", "attributes": []}])
        ecr.start_image_scan(repositoryName=REPOSITORY, imageId={"imageDigest": digest})
    reference = f"{image.registry}/{image.repository}@{image.digest}"
    assert run(["ci", "image-scan", "--image", reference, "--wait", "30"]) == 1
    assert capsys.readouterr().out.count("FAIL linux/") == 2
