"""No credential in plain text anywhere in a plan: not in an input, a stack output, or the plan's config.

Three nets, each able to catch what the others miss: values under credential-like keys must be `[secret]`;
no string anywhere may look like a credential (a URL with a password, a private key, an AWS access key); and
the actual generated secrets of this run (the mock engine's deterministic stand-ins) and the configured
external Redis password must not appear anywhere in the plan's JSON.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest

from infra.plan.document import Plan
from infra.plan.mocks import _offline_secret, offline_private_key_pem
from infra.plan.recording import REDACTED
from tests.infra.data.data_support import EXTERNAL_CACHE, EXTERNAL_REDIS_PASSWORD, app_settings_of
from tests.infra.plans import STACKS, plan_of

SHAPES = {**STACKS, "dev-external-cache": EXTERNAL_CACHE}
TLS_PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
CREDENTIAL_KEY = re.compile(r"password|passwd|secret|token|credential|privatekey|apikey|connectionstring")
# Keys that name or point at a credential without holding one (the secret's ARN, the Atlas auth database...).
NOT_A_CREDENTIAL = re.compile(r"(arn|id|ids|name|type|days|strategy|enabled|stage|stages|version|length)$")
# Settings whose names merely contain a credential word (IMDSv2's token mode, the provider's STS check).
NOT_A_CREDENTIAL_KEYS = frozenset({"httptokens", "skipcredentialsvalidation"})
CREDENTIAL_VALUE = {
    "URL with a password": re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.IGNORECASE),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
}


def walk(value: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, last key, value) for every leaf."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}") if isinstance(item, dict | list) else [(f"{path}.{key}", key, item)]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from (
                walk(item, f"{path}[{index}]") if isinstance(item, dict | list) else [(f"{path}[{index}]", "", item)]
            )


def leaks(plan: Plan) -> list[str]:
    found = []
    for path, key, value in walk(plan.to_dict()):
        if not isinstance(value, str) or value in ("", REDACTED):
            continue
        normalized = key.lower().replace("_", "").replace("-", "")
        named_like_one = CREDENTIAL_KEY.search(normalized) and normalized not in NOT_A_CREDENTIAL_KEYS
        if named_like_one and not NOT_A_CREDENTIAL.search(normalized):
            found.append(f"{path}: credential-like key holds a plain value")
        for kind, pattern in CREDENTIAL_VALUE.items():
            if pattern.search(value):
                found.append(f"{path}: looks like a {kind}")
    return found


def generated_secrets(plan: Plan) -> list[str]:
    passwords = [
        _offline_secret(r["name"], int(r["inputs"]["length"]))
        for r in plan.of_type("random:index/randomPassword:RandomPassword")
    ]
    return passwords + signing_key_forms(plan)


def signing_key_forms(plan: Plan) -> list[str]:
    """The CDN's generated private key as it could leak: its PEM body, and the base64 the app's secret holds."""
    forms = []
    for key in plan.of_type(TLS_PRIVATE_KEY):
        pem = offline_private_key_pem(key["name"])
        forms += [pem.splitlines()[1], base64.b64encode(pem.encode()).decode()]
    return forms


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_nothing_in_the_plan_looks_like_a_credential(shape: str) -> None:
    plan = plan_of(*SHAPES[shape])
    assert leaks(plan) == []


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_no_generated_or_configured_secret_appears_in_the_plan(shape: str) -> None:
    plan = plan_of(*SHAPES[shape])
    document = plan.to_json()
    secrets = generated_secrets(plan)
    assert len(secrets) >= 3, "the database password and the app's two keys (and the cache's token)"
    secrets.append(EXTERNAL_REDIS_PASSWORD)
    for secret in secrets:
        assert secret[:16] not in document, f"{shape}: a secret value is in the plan in plain text"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_cdn_signing_key_is_secret_everywhere(shape: str) -> None:
    """The key exists where a CDN does, reaches the app's secret (its real value under the mock engine), and
    appears nowhere in the plan: not as PEM, not as the base64 the secret carries."""
    stack, overrides = SHAPES[shape]
    plan = plan_of(stack, overrides)
    keys = plan.of_type(TLS_PRIVATE_KEY)
    assert len(keys) == len(plan.of_type("aws:cloudfront/distribution:Distribution"))
    if not keys:
        return
    (key,) = keys
    settings = app_settings_of(stack, overrides)
    assert base64.b64decode(settings["CDN_SIGNING_PRIVATE_KEY"]).decode() == offline_private_key_pem(key["name"])
    document = plan.to_json()
    for form in signing_key_forms(plan):
        assert form not in document, f"{shape}: the CDN's private key is in the plan"
    assert "PRIVATE KEY" not in document
    (version,) = plan.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert version["inputs"]["secretString"] == REDACTED


def test_secret_inputs_are_redacted_where_they_are_used() -> None:
    plan = plan_of("prod")
    by_name = {r["name"]: r["inputs"] for r in plan.resources}
    assert by_name["database-app-user"]["password"] == REDACTED
    assert by_name["cache-redis"]["authToken"] == REDACTED
    assert by_name["app-secret-version"]["secretString"] == REDACTED


def test_the_checks_catch_a_leak() -> None:
    """The nets must be able to fail: a plan with each kind of leak is caught."""
    leaky = Plan(
        project="contentry",
        stack="dev",
        tier="C",
        resources=[
            {
                "urn": "urn:x",
                "type": "t",
                "name": "n",
                "inputs": {"authToken": "abc", "url": "rediss://:tok3n@host:6379", "secretId": "arn:..."},
            }
        ],
        outputs={"mongo": "mongodb+srv://app:pw@cluster/db", "key": "AKIAABCDEFGHIJKLMNOP"},
    )
    found = leaks(leaky)
    assert len(found) == 4, found
    assert not any("secretId" in item for item in found)
