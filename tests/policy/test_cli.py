"""`python -m infra.cli check`: exit 0 when no mandatory rule is violated (advisory findings printed), 1 when one
is, 2 on bad input; the table names rule, level, resource, message and the Checkov/Trivy ids; the JSON has them.

Most runs are in-process (`infra.cli.run`) for speed; one goes through `python -m infra.cli` for the real exit
code and the interpreter's clean exit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.cli import EXIT_INPUT_ERROR, EXIT_POLICY_VIOLATION, run
from infra.policy.registry import RULES
from tests.infra.test_plan_contract import run_cli
from tests.policy.support import drop_input, mutated, real_plan, remove, set_input

FINDING_KEYS = {"rule", "enforcement", "resource", "type", "urn", "message", "checkov", "trivy", "unchecked"}


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def saved(tmp_path: Path, stack_id: str, *mutations: Any) -> str:
    path = tmp_path / f"plan-{stack_id}.json"
    path.write_text(mutated(real_plan(stack_id), *mutations).to_json(), encoding="utf-8")
    return str(path)


def test_a_passing_stack_exits_0_and_prints_advisories_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = check(capsys, "--stack", "prod")
    assert code == 0, out + err
    assert "Policy check passed" in out
    assert "0 mandatory violations, 0 advisory" in out
    # Outside production a missing firewall is advice; in production it blocks (the next test).
    plan = saved(tmp_path, "dev", remove("alb-firewall-association"))
    code, out, err = check(capsys, "--plan", plan)
    assert code == 0, out + err
    assert "0 mandatory violations, 1 advisory" in out
    for fragment in ("alb-waf", "advisory", "load-balancer-alb", "CKV2_AWS_28"):
        assert fragment in out


def test_the_firewall_rules_block_in_production(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = saved(tmp_path, "prod", remove("alb-firewall-association"), drop_input("files-cdn", ("webAclId",)))
    code, out, _ = check(capsys, "--plan", plan, "--format", "json")
    assert code == EXIT_POLICY_VIOLATION
    document = json.loads(out)
    assert document["summary"] == {"mandatory": 2, "advisory": 0, "unchecked": 0}
    assert {(f["rule"], f["enforcement"]) for f in document["findings"]} == {
        ("alb-waf", "mandatory"),
        ("cloudfront-waf", "mandatory"),
    }


def test_json_names_every_finding_with_its_rule_and_mappings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = saved(tmp_path, "prod", remove("files-uploads-public-access-block"))
    code, out, _ = check(capsys, "--plan", plan, "--format", "json")
    assert code == EXIT_POLICY_VIOLATION
    document = json.loads(out)
    assert (document["stack"], document["tier"], document["environment"]) == ("prod", "A", "production")
    assert document["passed"] is False
    assert document["summary"] == {"mandatory": 1, "advisory": 0, "unchecked": 0}
    assert document["rulesRun"] == [rule.id for rule in RULES]
    assert document["rulesSkipped"] == []
    for finding in document["findings"]:
        assert set(finding) == FINDING_KEYS
    (blocking,) = (f for f in document["findings"] if f["enforcement"] == "mandatory")
    assert blocking["rule"] == "s3-public-access-blocked"
    assert blocking["resource"] == "files-uploads"
    assert blocking["type"] == "aws:s3/bucket:Bucket"
    assert blocking["checkov"] == ["CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"]
    assert "AWS-0086" in blocking["trivy"]
    assert "BucketPublicAccessBlock" in blocking["message"]


def test_a_mandatory_violation_exits_1_with_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = saved(tmp_path, "dev", set_input("app-fleet-template", ("metadataOptions", "httpTokens"), "optional"))
    code, out, _ = check(capsys, "--plan", plan)
    assert code == EXIT_POLICY_VIOLATION
    assert "Policy check failed" in out
    assert "1 mandatory violations" in out
    for fragment in ("ec2-imdsv2-required", "mandatory", "app-fleet-template", "CKV_AWS_79", "AWS-0130", "IMDSv1"):
        assert fragment in out


def test_development_skips_production_rules_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(capsys, "--stack", "dev", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["environment"] == "development"
    assert set(document["rulesSkipped"]) == {rule.id for rule in RULES if rule.production_only}


def test_a_plan_without_an_environment_is_checked_as_production(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An older plan (no config section) must not silently skip the production rules: dev fails them."""
    document = json.loads(real_plan("dev").to_json())
    del document["config"]
    path = tmp_path / "old-plan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    code, out, _ = check(capsys, "--plan", str(path))
    assert code == EXIT_POLICY_VIOLATION
    assert "production rules applied" in out
    assert "stateful-protected" in out


def test_set_overrides_a_key_for_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(capsys, "--stack", "dev", "--set", "tier=B", "--format", "json")
    assert code == 0
    assert json.loads(out)["tier"] == "B"


def test_list_rules_prints_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(capsys, "--list-rules")
    assert code == 0
    for rule in RULES:
        assert rule.id in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--stack", "nope"), "nope"),
        (("--plan", "missing-plan.json"), "cannot be read"),
        (("--plan", "x.json", "--stack", "prod"), "drop --stack/--set"),
        (("--stack", "dev", "--set", "tier=Z"), "tier"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(
    args: tuple[str, ...], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = check(capsys, *args)
    assert code == EXIT_INPUT_ERROR
    assert says in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "document",
    ["not json", json.dumps({"project": "p", "stack": "s", "tier": "C", "resources": [{"urn": 1}], "outputs": {}})],
)
def test_a_file_that_is_not_a_plan_exits_2(document: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plan.json"
    path.write_text(document, encoding="utf-8")
    code, _, err = check(capsys, "--plan", str(path))
    assert code == EXIT_INPUT_ERROR
    assert "not a plan" in err


def test_the_console_command_exits_1_on_a_violation(tmp_path: Path) -> None:
    plan = saved(tmp_path, "prod", set_input("database-access-vpc", ("cidrBlock",), "0.0.0.0/0"))
    result = run_cli("check", "--plan", plan)
    assert result.returncode == EXIT_POLICY_VIOLATION, result.stdout + result.stderr
    assert "atlas-access-list-not-open" in result.stdout
