"""Config and plan input that used to slip through: provider credentials in plain text, provider-key typos, ESC
environments, a lower-case tier, a plan file that is not a plan, and `cost --against` mistakes caught before
any planning."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest

from infra import cli
from infra.config import InvalidStackConfig
from infra.config.loader import RawConfig, config_warnings, load_stack_config, resolve
from infra.config.provider_keys import UNMARKED_CREDENTIALS, provider_keys
from tests.infra.plans import plan_of
from tests.infra.test_config_validation import VALID_DEV, raw
from tests.infra.test_plan_contract import run_cli, write_project

SECRET_VALUE = "hunter2-do-not-echo"


def test_provider_keys_are_read_from_the_installed_packages() -> None:
    aws, atlas = provider_keys("aws"), provider_keys("mongodbatlas")
    assert aws is not None
    assert atlas is not None
    assert {"region", "profile", "accessKey", "secretKey", "token", "assumeRoles"} <= aws.keys
    assert len(aws.keys) > 30, "every key pulumi_aws declares, not a hand list"
    assert {"publicKey", "privateKey", "clientId", "clientSecret", "baseUrl"} <= atlas.keys
    # The schema's own secret markings...
    assert {"accessKey", "secretKey", "token"} <= aws.secret
    assert "privateKey" in atlas.secret
    # ...and nothing that is not a credential.
    assert not {"region", "profile", "tokenBucketRateLimiterCapacity", "skipCredentialsValidation"} & aws.secret
    assert not {"publicKey", "clientId", "awsAccessKeyId"} & atlas.secret


@pytest.mark.parametrize(("namespace", "keys"), sorted(UNMARKED_CREDENTIALS.items()))
def test_credentials_the_schema_does_not_mark_are_still_keys_of_the_provider(
    namespace: str, keys: frozenset[str]
) -> None:
    known = provider_keys(namespace)
    assert known is not None
    assert keys <= known.keys, f"renamed or removed in the installed {namespace} provider: {keys - known.keys}"


CREDENTIALS = [
    "aws:accessKey",
    "aws:secretKey",
    "aws:token",
    "mongodbatlas:privateKey",
    "mongodbatlas:clientSecret",
    "mongodbatlas:accessToken",
]


@pytest.mark.parametrize("key", CREDENTIALS)
def test_a_provider_credential_in_plain_text_is_refused_with_the_fix(key: str) -> None:
    with pytest.raises(InvalidStackConfig) as caught:
        resolve(raw({**VALID_DEV, key: SECRET_VALUE}))
    message = str(caught.value)
    assert f"  - {key}: is a credential stored in plain text" in message
    assert f"pulumi config set --secret {key} <value> --stack dev" in message
    assert SECRET_VALUE not in message


@pytest.mark.parametrize("key", CREDENTIALS)
def test_a_provider_credential_set_as_a_secret_is_accepted(key: str) -> None:
    assert resolve(raw({**VALID_DEV, key: SECRET_VALUE}, secret_keys=frozenset({key}))).tier.value == "C"


def test_provider_settings_that_are_not_credentials_stay_plain() -> None:
    values = {**VALID_DEV, "aws:profile": "contentry", "mongodbatlas:publicKey": "abcdefgh", "aws:maxRetries": "5"}
    assert resolve(raw(values)).region == "us-east-1"
    assert config_warnings(raw(values)) == []


def test_a_stack_file_with_a_plaintext_atlas_key_fails_the_plan(tmp_path: Path) -> None:
    stack_file = (
        "config:\n  contentry:alertEmail: a@b.co\n  contentry:atlasOrgId: 5f1e2d3c4b5a69788796a5b4\n"
        "  contentry:appImageTag: 1.4.2\n  mongodbatlas:publicKey: abcdefgh\n"
    )
    plain = run_cli(
        "plan",
        "--stack",
        "test",
        "--project-dir",
        str(write_project(tmp_path, stack_file + f"  mongodbatlas:privateKey: {SECRET_VALUE}\n")),
    )
    assert plain.returncode == 2
    assert "mongodbatlas:privateKey: is a credential stored in plain text" in plain.stderr
    assert SECRET_VALUE not in plain.stderr + plain.stdout
    secure = stack_file + "  mongodbatlas:privateKey:\n    secure: v1:ciphertext\n"
    assert run_cli("plan", "--stack", "test", "--project-dir", str(write_project(tmp_path, secure))).returncode == 0


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("aws:regoin", "aws:region"),
        ("aws:proflie", "aws:profile"),
        ("mongodbatlas:privatekey", "mongodbatlas:privateKey"),
    ],
)
def test_an_unknown_provider_key_is_a_warning_with_a_suggestion(key: str, suggestion: str) -> None:
    config = raw({**VALID_DEV, key: "x"}, secret_keys=frozenset({key}))
    assert resolve(config).tier.value == "C", "a warning, not an error"
    (warning,) = config_warnings(config)
    assert warning.key == key
    assert f"did you mean {suggestion}?" in str(warning)


def test_keys_of_other_namespaces_are_not_checked_against_a_provider() -> None:
    assert config_warnings(raw({**VALID_DEV, "kubernetes:context": "x", "random:whatever": "y"})) == []


def test_under_pulumi_up_the_warning_goes_to_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    warned: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_, **__: warned.append(message))
    monkeypatch.setattr(
        "infra.config.loader.read_pulumi_config",
        lambda: RawConfig("contentry", "dev", {**VALID_DEV, "aws:regoin": "x"}),
    )
    load_stack_config()
    assert len(warned) == 1
    assert warned[0].startswith("aws:regoin: not a config key of the aws provider")


def test_the_plan_prints_the_warning_once() -> None:
    result = run_cli("plan", "--stack", "dev", "--quiet", "--set", "aws:regoin=eu-west-1")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("warning: aws:regoin") == 1
    assert "did you mean aws:region?" in result.stderr


def test_a_lower_case_tier_is_one_problem_saying_tiers_are_upper_case() -> None:
    with pytest.raises(InvalidStackConfig) as caught:
        resolve(raw({**VALID_DEV, "contentry:tier": "b"}))
    assert [str(problem) for problem in caught.value.problems] == [
        "contentry:tier: 'b' is not a tier; tiers are upper-case: B; allowed: A, B, C"
    ]
    result = run_cli("plan", "--stack", "dev", "--set", "tier=b")
    assert result.returncode == 2
    assert "(1 problem)" in result.stderr


def test_an_esc_environment_is_named_and_the_plan_goes_on_with_what_is_known(tmp_path: Path) -> None:
    stack_file = (
        "environment:\n  - aws-oidc\n  - contentry/prod-settings@v2\n"
        "config:\n  contentry:alertEmail: a@b.co\n  contentry:atlasOrgId: 5f1e2d3c4b5a69788796a5b4\n"
        "  contentry:appImageTag: 1.4.2\n"
    )
    result = run_cli("plan", "--stack", "test", "--quiet", "--project-dir", str(write_project(tmp_path, stack_file)))
    assert result.returncode == 0, result.stderr
    assert (
        "warning: Pulumi.test.yaml imports the ESC environment(s) aws-oidc, contentry/prod-settings@v2" in result.stderr
    )
    assert "any key those environments set (their pulumiConfig) takes its default here" in result.stderr
    plain = run_cli("plan", "--stack", "dev", "--quiet")
    assert "ESC" not in plain.stderr


@pytest.mark.parametrize(
    ("text", "holds"),
    [("{}", "it lacks `project`, `stack`, `tier`, `resources`, `outputs`"), ("[]", "this file holds a list")],
)
@pytest.mark.parametrize("command", ["cost", "check"])
def test_a_json_file_that_is_not_a_plan_says_what_a_plan_contains(
    tmp_path: Path, command: str, text: str, holds: str
) -> None:
    path = tmp_path / "plan.json"
    path.write_text(text, encoding="utf-8")
    result = run_cli(command, "--plan", str(path))
    assert result.returncode == 2
    assert "a plan is a JSON object with `project`, `stack` and `tier` (strings), `resources` (a list)" in result.stderr
    assert holds in result.stderr
    assert "('project')" not in result.stderr
    assert "list indices" not in result.stderr


def test_a_plan_with_a_part_of_the_wrong_type_is_named(tmp_path: Path) -> None:
    document = plan_of("dev").to_dict() | {"resources": {}}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run_cli("cost", "--plan", str(path))
    assert result.returncode == 2
    assert "its `resources` is an object" in result.stderr


class PlanBuilt(AssertionError):
    pass


@pytest.fixture
def no_planning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if anything starts building a plan."""

    def refuse(*_: object, **__: object) -> None:
        raise PlanBuilt("a plan was built before the bad input was reported")

    monkeypatch.setattr("infra.cost.stacks.build_plan", refuse)


@pytest.mark.usefixtures("no_planning")
@pytest.mark.parametrize(
    ("against", "extra", "expected"),
    [
        ("build/no-such-plan.json", [], "build/no-such-plan.json: cannot be read"),
        ("staging", [], "'staging' is neither a plan file (no such file; plan files end in .json) nor a stack"),
        ("dev", ["--format", "csv"], "--against compares two estimates, which a CSV of cost lines cannot hold"),
    ],
)
def test_cost_against_bad_input_is_reported_before_any_plan(
    against: str, extra: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.run(["cost", "--stack", "prod", "--against", against, *extra]) == cli.EXIT_INPUT_ERROR
    assert expected in capsys.readouterr().err
