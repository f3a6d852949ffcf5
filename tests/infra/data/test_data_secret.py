"""The app's secret: one Secrets Manager secret whose JSON the app reads as its environment."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest

from app.core.config import Settings
from infra.plan.document import Plan
from infra.planning.data.app_settings import CDN_SIGNING_KEYS, SECRET_KEYS
from tests.infra.data.data_support import EXTERNAL_CACHE, SECRET_VERSION, app_settings_of, app_settings_when, only
from tests.infra.plans import STACKS, plan_of

SECRET = "aws:secretsmanager/secret:Secret"
CLUSTER = "mongodbatlas:index/advancedCluster:AdvancedCluster"
SHAPES = {**STACKS, "dev-external-cache": EXTERNAL_CACHE}


def test_one_secret_with_the_aws_managed_key(any_plan: Plan) -> None:
    secret = only(any_plan, SECRET)["inputs"]
    assert "kmsKeyId" not in secret, "a customer key would need a kms:Decrypt grant on the instance role"
    version = only(any_plan, SECRET_VERSION)["inputs"]
    assert version["secretId"] == "app-secret-secret-id"
    assert version["secretString"] == "[secret]"


def test_recovery_window_per_environment() -> None:
    for stack_id, (stack, overrides) in STACKS.items():
        expected = 30 if stack == "prod" else 0
        secret = only(plan_of(stack, overrides), SECRET)["inputs"]
        assert secret["recoveryWindowInDays"] == expected, stack_id


def test_only_the_arn_leaves_the_data_tier(prod_plan: Plan) -> None:
    assert prod_plan.outputs["appSecretArn"] == "arn:aws:secretsmanager:us-east-1:123456789012:app-secret-secret"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_app_accepts_its_settings_as_its_production_environment(
    shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, overrides = SHAPES[shape]
    values = app_settings_of(stack, overrides)
    plan = plan_of(stack, overrides)
    cdn_on = bool(plan.of_type("aws:cloudfront/distribution:Distribution"))
    cors_on = bool(plan.config.get("domain"))  # the API's own origin, at least
    cdn_keys = ["CDN_DOMAIN", *CDN_SIGNING_KEYS] if cdn_on else []
    expected = {*SECRET_KEYS, *cdn_keys, *(["CORS_ORIGINS"] if cors_on else [])}
    assert set(values) == expected, shape
    for key, value in values.items():
        monkeypatch.setenv(key, value)  # what the compute side does, key by key
    monkeypatch.setenv("APP_ENV", "production")
    settings = Settings()
    assert settings.mongo_database == "contentry"
    assert settings.s3_bucket == plan.outputs["uploadsBucket"]
    assert settings.cdn_domain == plan.outputs.get("cdnDomain")
    assert (settings.cdn_signing_private_key_pem is not None) == cdn_on, "the CDN's signing key reaches the app"
    jwt_keys = {kid: key.get_secret_value() for kid, key in settings.jwt_keys.items()}
    assert settings.jwt_current_kid == "gen-1"
    assert sorted(jwt_keys) == ["gen-1", "gen-2"], "generation 1: the current key and the next one"
    assert len(set(jwt_keys.values())) == 2
    assert settings.health_detailed_token.get_secret_value() not in jwt_keys.values()
    # Images from before key rotation read JWT_SECRET: the current key, so a rollback to one still starts.
    assert values["JWT_SECRET"] == jwt_keys["gen-1"]


def test_mongo_url_reaches_the_cluster_privately_as_the_app_user() -> None:
    parts = urlsplit(app_settings_of("prod")["MONGO_URL"])
    assert parts.scheme == "mongodb+srv"
    assert parts.hostname == "contentry-prod-pri.offln.mongodb.net"  # the peering (private) SRV name
    assert unquote(parts.username or "") == "contentry-app"
    assert len(unquote(parts.password or "")) == 40
    assert parts.path == "/contentry"
    assert "w=majority" in parts.query


def test_mongo_url_falls_back_to_the_standard_srv_before_atlas_lists_the_peering_one() -> None:
    """A first `up` may finish before Atlas returns the peering string: deploy with the standard SRV name
    (private addresses inside the peered VPC) instead of failing the whole update."""

    def without_peering_string(type_token: str, state: dict) -> dict:
        if type_token == CLUSTER:
            strings = {k: v for k, v in state["connectionStrings"].items() if k not in ("private", "privateSrv")}
            return {**state, "connectionStrings": strings}
        return state

    url = app_settings_when("prod", (), without_peering_string)["MONGO_URL"]
    assert urlsplit(url).hostname == "contentry-prod.offln.mongodb.net"


def test_generated_app_secrets_are_long(any_plan: Plan) -> None:
    for name in ("app-secret-jwt-key-1", "app-secret-jwt-key-2", "app-secret-health-token"):
        (password,) = [r for r in any_plan.of_type("random:index/randomPassword:RandomPassword") if r["name"] == name]
        assert password["inputs"]["length"] >= 32, name
