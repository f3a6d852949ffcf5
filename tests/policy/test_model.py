"""What the rules stand on: reading inputs (absent, unknown), and which resource an input points at."""

from __future__ import annotations

import pytest

from infra.policy.engine import evaluate
from infra.policy.model import UNKNOWN, Resource, Rule, Stack, UnknownValueAt, get, items, present
from infra.policy.registry import rule

BUCKET = "aws:s3/bucket:Bucket"
BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
FLAGS = dict.fromkeys(("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True)


def bucket(name: str, **inputs: object) -> Resource:
    return Resource(urn=f"urn:{name}", type=BUCKET, name=name, inputs=dict(inputs))


def block(name: str, value: str, depends: tuple[str, ...], property_deps: dict | None = None) -> Resource:
    return Resource(
        urn=f"urn:{name}",
        type=BLOCK,
        name=name,
        inputs={"bucket": value, **FLAGS},
        dependencies=depends,
        property_dependencies=property_deps,
    )


def test_get_walks_dicts_and_lists_and_answers_none_when_absent() -> None:
    node = {"a": {"b": [{"c": 1}]}}
    assert get(node, "a", "b", 0, "c") == 1
    assert get(node, "a", "x", 0) is None
    assert get(node, "a", "b", 5) is None
    assert items(node, "a", "b") == [{"c": 1}]
    assert items(node, "missing") == []


def test_get_refuses_to_guess_an_unknown_value() -> None:
    with pytest.raises(UnknownValueAt) as leaf:
        get({"metadataOptions": {"httpTokens": UNKNOWN}}, "metadataOptions", "httpTokens")
    assert leaf.value.path == ("metadataOptions", "httpTokens")
    with pytest.raises(UnknownValueAt):
        get({"metadataOptions": UNKNOWN}, "metadataOptions", "httpTokens")


def test_present_counts_a_value_not_known_yet_as_set() -> None:
    """A bucket name or a generated token is unknown in a first preview; it will be something."""
    assert present({"accessLogs": {"bucket": UNKNOWN}}, "accessLogs", "bucket")
    assert present({"authToken": "[secret]"}, "authToken")
    assert not present({"accessLogs": {"bucket": ""}}, "accessLogs", "bucket")
    assert not present({"targetGroupArns": []}, "targetGroupArns")
    assert not present({}, "accessLogs", "bucket")
    with pytest.raises(UnknownValueAt):
        present({"accessLogs": UNKNOWN}, "accessLogs", "bucket")


def test_an_unknown_value_is_reported_unchecked_not_as_a_violation() -> None:
    template = Resource(
        urn="urn:t",
        type="aws:ec2/launchTemplate:LaunchTemplate",
        name="t",
        inputs={"metadataOptions": {"httpTokens": UNKNOWN}},
    )
    (finding,) = evaluate([rule("ec2-imdsv2-required")], Stack((template,)), production=True)
    assert finding.unchecked
    assert not finding.blocks
    assert "metadataOptions.httpTokens is unknown" in finding.message


def test_a_plan_reference_is_resolved_by_the_value_when_several_dependencies_qualify() -> None:
    logs, uploads = bucket("files-logs"), bucket("files-uploads")
    archive = bucket("files-logs-archive")
    ambiguous = block("pab", "files-logs-archive-1a2b3c", (logs.urn, uploads.urn, archive.urn))
    stack = Stack((logs, uploads, archive, ambiguous))
    assert stack.referenced(ambiguous, ("bucket",), (BUCKET,)) == [archive], "the longest name wins"


def test_an_explicit_physical_name_is_matched() -> None:
    named = bucket("uploads", bucket="acme-prod-uploads")
    other = bucket("logs")
    pab = block("pab", "acme-prod-uploads", (named.urn, other.urn))
    assert Stack((named, other, pab)).referenced(pab, ("bucket",), (BUCKET,)) == [named]


def test_a_reference_nothing_identifies_resolves_to_nothing() -> None:
    one, two = bucket("one"), bucket("two")
    pab = block("pab", "some-engine-id", (one.urn, two.urn))
    assert Stack((one, two, pab)).referenced(pab, ("bucket",), (BUCKET,)) == []
    single = block("pab", "some-engine-id", (one.urn,))
    assert Stack((one, two, single)).referenced(single, ("bucket",), (BUCKET,)) == [one], "its one dependency"


def test_property_dependencies_are_exact_when_the_engine_gives_them() -> None:
    """The policy SDK: the `bucket` input's own dependencies decide, whatever the value says (unknown here)."""
    logs, uploads = bucket("files-logs"), bucket("files-uploads")
    pab = block("pab", UNKNOWN, (logs.urn, uploads.urn), {"bucket": (uploads.urn,), "tags": (logs.urn,)})
    stack = Stack((logs, uploads, pab))
    assert stack.referenced(pab, ("bucket",), (BUCKET,)) == [uploads]
    assert stack.referencing(uploads, (BLOCK,), ("bucket",)) == [pab]
    assert stack.referencing(logs, (BLOCK,), ("bucket",)) == []


def test_a_rule_takes_exactly_one_kind_of_check() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Rule("x", "x.", rule("alb-waf").enforcement, (BUCKET,))
