"""The policy pack (policy/, pulumi-policy 1.21) runs the registry's rules through the SDK's own arguments.

The SDK's argument classes have public constructors, so these tests build them as the analyzer does (props
through the SDK's own deserializer and unknown-checking proxy) and call each policy's `validate`; two tests go
one level lower and drive the SDK's analyzer servicer with the engine's protobuf requests, where secrets arrive
wrapped and unknowns as sentinels.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi.runtime.config import CONFIG, set_all_config
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _NotApplicableError, _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from infra.config.keys import PROJECT_NAMESPACE
from infra.config.model import Environment
from infra.plan.recording import SECRET_SIG, SIG_KEY
from infra.policy import pack
from infra.policy.model import Enforcement
from infra.policy.registry import RULES
from tests.infra.plans import REPO_ROOT
from tests.policy.support import real_plan

Violations = list[tuple[str, str | None]]


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def sdk_props(inputs: dict[str, Any]) -> Any:
    """Props as the SDK hands them to a policy: deserialized, then wrapped in its unknown-checking proxy."""
    return unknown_checking_proxy(deserialize_properties(copy.deepcopy(inputs)))


def plan_resource(stack_id: str, name: str) -> dict[str, Any]:
    (resource,) = (r for r in real_plan(stack_id).resources if r["name"] == name)
    return copy.deepcopy(resource)


def resource_args(resource: dict[str, Any], protect: bool | None = None) -> ResourceValidationArgs:
    chosen = resource["options"]["protect"] if protect is None else protect
    return ResourceValidationArgs(
        resource["type"], sdk_props(resource["inputs"]), resource["urn"], resource["name"], options(chosen), None
    )


def policy_named(rule_id: str, environment: str = "production") -> Any:
    (policy,) = (p for p in pack.policies(environment=lambda: environment) if p.name == rule_id)
    return policy


def validate(policy: Any, args: Any) -> Violations:
    reported: Violations = []
    policy.validate(args, lambda message, urn=None: reported.append((message, urn)))
    return reported


# The pack mirrors the registry


@pytest.mark.parametrize("environment", ["production", "development"])
def test_the_pack_has_one_policy_per_rule_in_the_registrys_order(environment: str) -> None:
    policies = pack.policies(environment=lambda: environment)
    assert [p.name for p in policies] == [rule.id for rule in RULES]
    for policy, rule in zip(policies, RULES, strict=True):
        assert policy.description == rule.description
        level = rule.enforcement_in(production=environment == "production")
        expected_level = EnforcementLevel.MANDATORY if level is Enforcement.MANDATORY else EnforcementLevel.ADVISORY
        assert policy.enforcement_level == expected_level, rule.id
        expected_class = StackValidationPolicy if rule.spans_resources else ResourceValidationPolicy
        assert type(policy) is expected_class, rule.id


def test_the_pack_project_points_at_the_project_venv_and_pins_as_the_project_does() -> None:
    project = yaml.safe_load((REPO_ROOT / "policy" / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    assert project["runtime"]["name"] == "python"
    assert (REPO_ROOT / "policy" / project["runtime"]["options"]["virtualenv"]).resolve() == REPO_ROOT / ".venv"
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(project["version"]))

    def pins(path: Path) -> dict[str, str]:
        found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
        return {name.lower(): version for name, version in found}

    pack_pins, project_pins = pins(REPO_ROOT / "policy" / "requirements.txt"), pins(REPO_ROOT / "requirements.txt")
    assert {"pulumi", "pulumi-policy"} <= set(pack_pins)
    assert {name: project_pins.get(name) for name in pack_pins} == pack_pins
    assert "-e .." in (REPO_ROOT / "policy" / "requirements.txt").read_text(encoding="utf-8")


def test_the_pack_speaks_the_projects_config() -> None:
    assert pack.NAMESPACE == PROJECT_NAMESPACE
    assert {pack.PRODUCTION, pack.DEVELOPMENT} == {e.value for e in Environment}


# Resource policies


def test_a_resource_policy_reports_the_violation_through_report_violation() -> None:
    template = plan_resource("prod", "app-fleet-template")
    policy = policy_named("ec2-imdsv2-required")
    assert validate(policy, resource_args(template)) == []
    template["inputs"]["metadataOptions"]["httpTokens"] = "optional"
    ((message, urn),) = validate(policy, resource_args(template))
    assert "app-fleet-template allows IMDSv1" in message
    assert urn is None, "a resource policy's violation belongs to the resource it validates"


def test_a_resource_policy_ignores_other_types() -> None:
    bucket = plan_resource("prod", "files-uploads")
    assert validate(policy_named("ec2-imdsv2-required"), resource_args(bucket)) == []


def test_protect_comes_from_the_sdks_options_and_production_rules_follow_the_environment() -> None:
    bucket = plan_resource("prod", "files-uploads")
    assert validate(policy_named("stateful-protected"), resource_args(bucket, protect=True)) == []
    ((message, _),) = validate(policy_named("stateful-protected"), resource_args(bucket, protect=False))
    assert "files-uploads holds state but is not protected" in message
    development = policy_named("stateful-protected", environment="development")
    assert validate(development, resource_args(bucket, protect=False)) == []


def test_a_value_unknown_during_preview_raises_the_sdks_unknown_error() -> None:
    template = plan_resource("prod", "app-fleet-template")
    template["inputs"]["metadataOptions"]["httpTokens"] = UNKNOWN_STRING_VALUE
    with pytest.raises(UnknownValueError) as unknown:
        validate(policy_named("ec2-imdsv2-required"), resource_args(template))
    assert "app-fleet-template: metadataOptions.httpTokens is unknown" in unknown.value.message


@pytest.mark.parametrize(
    ("name", "path", "rule_id"),
    [
        ("load-balancer-alb", ("accessLogs", "bucket"), "alb-access-logs"),
        ("cache-redis", ("authToken",), "elasticache-auth"),
        ("files-cdn", ("loggingConfig", "bucket"), "cloudfront-access-logs"),
        ("files-cdn", ("origins", 0, "originAccessControlId"), "cloudfront-origin-access-control"),
        ("app-fleet-asg", ("targetGroupArns",), "asg-elb-health-check"),
    ],
)
def test_a_first_preview_still_decides_what_only_needs_a_value_set(
    name: str, path: tuple[str | int, ...], rule_id: str
) -> None:
    """On a new stack, what comes from another resource (a bucket's name, a generated token, target group ARNs)
    is unknown at preview: a rule that only needs it set decides anyway, with no "can't run" note."""
    resource = plan_resource("prod", name)
    node = resource["inputs"]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = UNKNOWN_STRING_VALUE if path[-1] != "targetGroupArns" else UNKNOWN_ARRAY_VALUE
    assert validate(policy_named(rule_id), resource_args(resource)) == []


def test_an_unknown_list_still_shows_a_group_behind_a_load_balancer_without_elb_checks() -> None:
    group = plan_resource("prod", "app-fleet-asg")
    group["inputs"]["targetGroupArns"] = UNKNOWN_ARRAY_VALUE
    group["inputs"]["healthCheckType"] = "EC2"
    ((message, _),) = validate(policy_named("asg-elb-health-check"), resource_args(group))
    assert "health_check_type='ELB'" in message


def test_the_secrets_rule_declares_itself_not_applicable_in_the_pack() -> None:
    version = plan_resource("prod", "app-secret-version")
    with pytest.raises(_NotApplicableError) as raised:
        validate(policy_named("secrets-not-plaintext"), resource_args(version))
    assert "decrypted" in (raised.value.reason or "")


# Stack policies


def stack_resources(stack_id: str, names: set[str]) -> list[PolicyResource]:
    """PolicyResources as the engine builds them for a stack policy, with each input's dependencies: the mock
    engine names ids `<name>-id`, so an input holding one depends on that resource."""
    chosen = [copy.deepcopy(r) for r in real_plan(stack_id).resources if r["name"] in names]
    by_id = {f"{r['name']}-id": r["urn"] for r in chosen}
    built = {
        r["urn"]: PolicyResource(
            r["type"], sdk_props(r["inputs"]), r["urn"], r["name"], options(r["options"]["protect"]), None, None, [], {}
        )
        for r in chosen
    }
    for r in chosen:
        resource = built[r["urn"]]
        resource.dependencies = [built[urn] for urn in r["options"]["dependsOn"] if urn in built]
        resource.property_dependencies = {
            key: [built[by_id[value]]]
            for key, value in r["inputs"].items()
            if isinstance(value, str) and value in by_id
        }
    return list(built.values())


FILES_S3 = {
    "files-uploads",
    "files-logs",
    "files-uploads-public-access-block",
    "files-logs-public-access-block",
    "files-uploads-policy",
    "files-logs-policy",
}


def test_a_stack_policy_reports_each_violation_against_its_resource() -> None:
    resources = stack_resources("prod", FILES_S3)
    policy = policy_named("s3-public-access-blocked")
    assert validate(policy, StackValidationArgs(resources)) == []
    without_block = [r for r in resources if r.name != "files-uploads-public-access-block"]
    ((message, urn),) = validate(policy, StackValidationArgs(without_block))
    assert "bucket files-uploads has no public access block" in message
    assert urn is not None
    assert urn.endswith("::files-uploads")


def test_a_stack_policy_uses_each_inputs_own_dependencies() -> None:
    """files-logs-policy depends on both buckets (it names the uploads bucket in a condition); its `bucket`
    input's dependency says it configures the log bucket only."""
    resources = stack_resources("prod", FILES_S3)
    (logs_policy,) = (r for r in resources if r.name == "files-logs-policy")
    assert {d.name for d in logs_policy.dependencies} >= {"files-logs", "files-uploads"}
    assert [d.name for d in logs_policy.property_dependencies["bucket"]] == ["files-logs"]
    assert validate(policy_named("s3-tls-only"), StackValidationArgs(resources)) == []
    without_uploads_policy = [r for r in resources if r.name != "files-uploads-policy"]
    ((_, urn),) = validate(policy_named("s3-tls-only"), StackValidationArgs(without_uploads_policy))
    assert urn is not None
    assert urn.endswith("::files-uploads")


def test_a_stack_policy_reports_what_it_knows_then_the_unknown() -> None:
    resources = stack_resources("prod", FILES_S3)
    for resource in resources:
        if resource.name == "files-uploads-policy":
            resource.props = sdk_props({"bucket": "files-uploads-id", "policy": UNKNOWN_STRING_VALUE})
    without_logs_policy = [r for r in resources if r.name != "files-logs-policy"]
    reported: Violations = []
    with pytest.raises(UnknownValueError) as unknown:
        policy_named("s3-tls-only").validate(
            StackValidationArgs(without_logs_policy), lambda message, urn=None: reported.append((message, urn))
        )
    assert "files-uploads: policy is unknown" in unknown.value.message
    assert [urn.rsplit("::", 1)[1] for _, urn in reported if urn] == ["files-logs"]


# Through the SDK's analyzer, with the engine's protobuf requests


def _struct(document: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(document, message)
    return message


def _secret(value: str) -> dict[str, str]:
    return {SIG_KEY: SECRET_SIG, "value": value}


@pytest.fixture
def analyzer() -> Iterator[_PolicyAnalyzerServicer]:
    saved = dict(CONFIG.get())
    set_all_config({f"{PROJECT_NAMESPACE}:environment": "production", "aws:region": "us-east-1"})
    try:
        yield _PolicyAnalyzerServicer("contentry", "0.1.0", pack.policies(), EnforcementLevel.ADVISORY)
    finally:
        set_all_config(saved)


def test_the_analyzer_reports_mandatory_and_advisory_diagnostics_by_rule(analyzer: _PolicyAnalyzerServicer) -> None:
    group = plan_resource("prod", "cache-redis")
    inputs = group["inputs"]
    inputs["authToken"] = _secret("a-token-the-engine-decrypted")
    inputs["transitEncryptionEnabled"] = False
    inputs["multiAzEnabled"] = UNKNOWN_STRING_VALUE  # not known until the update: an advisory note, not a failure
    request = proto.AnalyzeRequest(
        type=group["type"],
        properties=_struct(inputs),
        urn=group["urn"],
        name=group["name"],
        options=proto.AnalyzerResourceOptions(protect=False),
    )
    response = analyzer.Analyze(request, None)
    by_policy = {d.policyName: d for d in response.diagnostics}
    assert set(by_policy) == {"elasticache-encrypted-in-transit", "elasticache-failover"}
    assert by_policy["elasticache-encrypted-in-transit"].enforcementLevel == proto.MANDATORY
    assert "cache-redis accepts plain-text connections" in by_policy["elasticache-encrypted-in-transit"].message
    assert by_policy["elasticache-failover"].enforcementLevel == proto.ADVISORY
    assert "during preview" in by_policy["elasticache-failover"].message
    assert [n.policy_name for n in response.not_applicable] == ["secrets-not-plaintext"]


def test_the_analyzer_runs_stack_policies_with_property_dependencies(analyzer: _PolicyAnalyzerServicer) -> None:
    chosen = [r for r in real_plan("prod").resources if r["name"] in FILES_S3 - {"files-logs-public-access-block"}]
    by_id = {f"{r['name']}-id": r["urn"] for r in chosen}
    request = proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(
                type=r["type"],
                properties=_struct(r["inputs"]),
                urn=r["urn"],
                name=r["name"],
                options=proto.AnalyzerResourceOptions(protect=r["options"]["protect"]),
                dependencies=[u for u in r["options"]["dependsOn"] if u in by_id.values()],
                propertyDependencies={
                    key: proto.AnalyzerPropertyDependencies(urns=[by_id[value]])
                    for key, value in r["inputs"].items()
                    if isinstance(value, str) and value in by_id
                },
            )
            for r in chosen
        ]
    )
    response = analyzer.AnalyzeStack(request, None)
    diagnostics = [(d.policyName, d.urn.rsplit("::", 1)[1], d.enforcementLevel) for d in response.diagnostics]
    assert ("s3-public-access-blocked", "files-logs", proto.MANDATORY) in diagnostics
    assert not [d for d in diagnostics if d[0] == "s3-public-access-blocked" and d[1] != "files-logs"]


# The stack's environment


@pytest.fixture
def stack_config() -> Iterator[None]:
    saved = dict(CONFIG.get())
    try:
        yield
    finally:
        set_all_config(saved)


@pytest.mark.usefixtures("stack_config")
@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"contentry:environment": "production", "aws:region": "us-east-1"}, "production"),
        ({"contentry:environment": "development", "aws:region": "us-east-1"}, "development"),
        ({"aws:region": "us-east-1"}, "development"),  # Pulumi.yaml's default, as the program resolves it
        ({}, "production"),  # no config reached the pack: never switch production rules off
        ({"contentry:environment": "prod", "aws:region": "us-east-1"}, "production"),  # a typo is not development
    ],
)
def test_the_environment_comes_from_the_stack_config(config: dict[str, str], expected: str) -> None:
    set_all_config(config)
    assert pulumi.Config(PROJECT_NAMESPACE).get("environment") == config.get("contentry:environment")
    assert pack.stack_environment() == expected


def test_the_pack_entry_point_serves_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """policy/__main__.py builds a PolicyPack from pack.policies() (the constructor would start serving)."""
    served: dict[str, Any] = {}
    import pulumi_policy

    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: served.update(kwargs))
    source = (REPO_ROOT / "policy" / "__main__.py").read_text(encoding="utf-8")
    exec(compile(source, "policy/__main__.py", "exec"), {"__name__": "__main__"})  # noqa: S102 (our own file)
    assert served["name"] == pack.PACK_NAME
    assert [p.name for p in served["policies"]] == [rule.id for rule in RULES]
    assert json.dumps(served["name"])


# Tier B rules in the pack


def test_the_pod_security_rules_run_in_the_pack_on_a_deployment() -> None:
    deployment = plan_resource("prod-tier-B", "app-deployment")
    policy = policy_named("k8s-read-only-root-filesystem")
    assert validate(policy, resource_args(deployment)) == []
    deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = (
        False
    )
    ((message, urn),) = validate(policy, resource_args(deployment))
    assert "app-deployment: container api can write its root filesystem" in message
    assert urn is None


def test_the_node_group_rule_runs_in_the_pack_through_the_launch_templates_dependency() -> None:
    resources = stack_resources("prod-tier-B", {"nodes-group", "nodes-template"})
    (group,) = (r for r in resources if r.name == "nodes-group")
    (template,) = (r for r in resources if r.name == "nodes-template")
    # The engine records the dependency of the `launchTemplate` input (its `id` comes from the template).
    group.property_dependencies = {"launchTemplate": [template]}
    policy = policy_named("eks-node-imdsv2-hop-limit-1")
    assert validate(policy, StackValidationArgs(resources)) == []
    inputs = plan_resource("prod-tier-B", "nodes-template")["inputs"]
    inputs["metadataOptions"]["httpPutResponseHopLimit"] = 2
    template.props = sdk_props(inputs)
    ((message, urn),) = validate(policy, StackValidationArgs(resources))
    assert "nodes-group's launch template nodes-template lets pods reach the node's credentials" in message
    assert urn is not None
    assert urn.endswith("::nodes-group")
