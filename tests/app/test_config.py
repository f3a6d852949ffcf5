"""Settings: the environment contract, and the refusal of placeholder secrets in production."""

import base64
import json

import pytest
from pydantic import ValidationError

from app.core.config import Settings

STRONG_JWT = "j" * 48
PREVIOUS_JWT = "p" * 48
STRONG_TOKEN = "t" * 48
PRODUCTION = {
    "APP_ENV": "production",
    "MONGO_URL": "mongodb+srv://api:s3cr3t-pw@cluster0.example.mongodb.net/contentry?retryWrites=true",
    "REDIS_URL": "rediss://:auth-token@master.cache.example.com:6379/0",
    "JWT_KEYS": json.dumps({"gen-1": PREVIOUS_JWT, "gen-2": STRONG_JWT}),
    "JWT_CURRENT_KID": "gen-2",
    "HEALTH_DETAILED_TOKEN": STRONG_TOKEN,
    "S3_BUCKET": "contentry-prod-uploads",
    "CDN_DOMAIN": "d111111abcdef8.cloudfront.net",
    # With a CDN, the signing key pair (the private key as base64 of its PEM, as the infrastructure's secret has it)
    "CDN_SIGNING_KEY_ID": "K2JCJMDEHXQW5F",
    "CDN_SIGNING_PRIVATE_KEY": base64.b64encode(
        b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n"
    ).decode(),
    "AWS_REGION": "eu-west-1",
}


def settings_from(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_the_infrastructure_contract_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(monkeypatch, PRODUCTION)
    assert settings.is_production
    assert settings.mongo_database == "contentry"
    assert settings.redis_url.get_secret_value().startswith("rediss://")
    assert settings.s3_bucket == "contentry-prod-uploads"
    assert settings.cdn_domain == "d111111abcdef8.cloudfront.net"
    assert settings.cdn_signing_key_id == "K2JCJMDEHXQW5F"
    assert settings.cdn_signing_private_key_pem is not None
    assert settings.cdn_signing_private_key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert settings.aws_region == "eu-west-1"
    assert {kid: key.get_secret_value() for kid, key in settings.jwt_keys.items()} == {
        "gen-1": PREVIOUS_JWT,
        "gen-2": STRONG_JWT,
    }
    assert settings.jwt_current_kid == "gen-2"


def test_tuning_values_have_defaults_and_can_be_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(monkeypatch, {**PRODUCTION, "MONGO_MAX_POOL_SIZE": "250", "READINESS_CACHE_SECONDS": "2"})
    assert settings.mongo_max_pool_size == 250
    assert settings.readiness_cache_seconds == 2
    assert settings.redis_socket_timeout_seconds == 0.25


def test_development_runs_with_no_environment_at_all() -> None:
    settings = Settings()
    assert settings.app_env == "development"
    assert settings.mongo_database == "contentry"


PLACEHOLDERS = ["", "changeme", "CHANGEME", "changethis", "secret", "  password  "]


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_production_refuses_a_placeholder_health_token(monkeypatch: pytest.MonkeyPatch, placeholder: str) -> None:
    with pytest.raises(ValidationError, match="HEALTH_DETAILED_TOKEN is a placeholder"):
        settings_from(monkeypatch, {**PRODUCTION, "HEALTH_DETAILED_TOKEN": placeholder})


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_production_refuses_a_placeholder_among_the_jwt_keys(monkeypatch: pytest.MonkeyPatch, placeholder: str) -> None:
    # The previous key, not only the current one: every key listed verifies tokens.
    keys = json.dumps({"gen-1": placeholder, "gen-2": STRONG_JWT})
    with pytest.raises(ValidationError, match=r"JWT_KEYS\[gen-1\] is a placeholder"):
        settings_from(monkeypatch, {**PRODUCTION, "JWT_KEYS": keys})


def test_production_refuses_short_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = json.dumps({"gen-2": "a-real-but-short-secret"})
    with pytest.raises(ValidationError, match=r"JWT_KEYS\[gen-2\] is a placeholder or shorter than 32"):
        settings_from(monkeypatch, {**PRODUCTION, "JWT_KEYS": keys})


@pytest.mark.parametrize(
    ("keys", "current", "message"),
    [
        ({"gen-1": STRONG_JWT}, "gen-2", "JWT_CURRENT_KID 'gen-2' is not a key id of JWT_KEYS \\(gen-1\\)"),
        ({}, "gen-2", "JWT_KEYS must name at least one key"),
        ({"gen 1": STRONG_JWT}, "gen 1", "key id 'gen 1' must be 1-64 letters"),
    ],
)
def test_the_jwt_keys_must_name_the_current_one(
    monkeypatch: pytest.MonkeyPatch, keys: dict[str, str], current: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        settings_from(monkeypatch, {**PRODUCTION, "JWT_KEYS": json.dumps(keys), "JWT_CURRENT_KID": current})


@pytest.mark.parametrize("raw", ['["gen-1"]', '{"gen-1": 5}', "gen-1=" + STRONG_JWT, '{"gen-1": "' + STRONG_JWT])
def test_jwt_keys_that_are_not_a_json_object_are_refused_without_echoing_them(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    with pytest.raises(ValidationError, match="JWT_KEYS must be a JSON object") as failure:
        settings_from(monkeypatch, {**PRODUCTION, "JWT_KEYS": raw})
    assert STRONG_JWT not in str(failure.value)


@pytest.mark.parametrize(
    "variable", ["MONGO_URL", "REDIS_URL", "S3_BUCKET", "JWT_KEYS", "JWT_CURRENT_KID", "HEALTH_DETAILED_TOKEN"]
)
def test_production_refuses_to_fall_back_to_development_defaults(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    env = {name: value for name, value in PRODUCTION.items() if name != variable}
    with pytest.raises(ValidationError, match=f"{variable} must be set explicitly in production"):
        settings_from(monkeypatch, env)


def test_production_reports_every_problem_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError) as failure:
        settings_from(monkeypatch, {"APP_ENV": "production", "JWT_KEYS": '{"k": "changeme"}', "JWT_CURRENT_KID": "k"})
    message = str(failure.value)
    for problem in ("MONGO_URL must be set", "REDIS_URL must be set", "JWT_KEYS[k] is a placeholder"):
        assert problem in message


def test_a_failed_validation_never_echoes_secret_values(monkeypatch: pytest.MonkeyPatch) -> None:
    leaked = "short-but-very-recognisable"
    with pytest.raises(ValidationError) as failure:
        settings_from(
            monkeypatch, {**PRODUCTION, "JWT_KEYS": json.dumps({"gen-2": leaked}), "JWT_CURRENT_KID": "gen-2"}
        )
    assert leaked not in str(failure.value)
    assert "s3cr3t-pw" not in str(failure.value)


def test_secrets_are_hidden_from_repr_and_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(monkeypatch, PRODUCTION)
    rendered = repr(settings) + str(settings) + settings.model_dump_json()
    for secret in (STRONG_JWT, PREVIOUS_JWT, STRONG_TOKEN, "s3cr3t-pw", "auth-token"):
        assert secret not in rendered


def test_production_refuses_a_wildcard_cors_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="CORS_ORIGINS must list origins explicitly"):
        settings_from(monkeypatch, {**PRODUCTION, "CORS_ORIGINS": "*"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://app.contentry.ai", ["https://app.contentry.ai"]),
        ("https://a.example.com, https://b.example.com/", ["https://a.example.com", "https://b.example.com"]),
        ('["https://a.example.com"]', ["https://a.example.com"]),
        ("", []),
    ],
)
def test_cors_origins_accept_a_list_or_commas(monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]) -> None:
    assert settings_from(monkeypatch, {"CORS_ORIGINS": raw}).cors_origins == expected


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MONGO_URL", "mongodb://localhost:27017", "must name the database"),
        ("MONGO_URL", "postgres://localhost/contentry", "mongodb:// or mongodb\\+srv://"),
        ("REDIS_URL", "http://localhost:6379", "redis:// or rediss://"),
        ("CDN_DOMAIN", "https://cdn.example.com/", "bare host name"),
        ("AWS_REGION", "Europe", "is not a region name"),
        ("CORS_ORIGINS", "app.example.com", "must be an origin"),
        ("APP_ENV", "staging", "development"),
        ("MONGO_MAX_POOL_SIZE", "0", "greater than or equal to 1"),
        ("RATE_LIMIT_UPLOADS_PER_USER", "20 per minute", "is not a rate: write REQUESTS/PERIOD"),
        ("RATE_LIMIT_WRITES_PER_IP", "0/minute", "greater than or equal to 1"),
        ("TRUSTED_PROXY_HOPS", "-1", "greater than or equal to 0"),
    ],
)
def test_invalid_values_are_refused_with_a_reason(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        settings_from(monkeypatch, {variable: value})


def test_an_empty_cdn_domain_means_no_cdn(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_from(monkeypatch, {"CDN_DOMAIN": ""}).cdn_domain is None


@pytest.mark.parametrize(
    ("raw", "requests", "period"),
    [("20/minute", 20, 60), ("1000/hour", 1000, 3600), ("5/second", 5, 1), ("300/day", 300, 86400), ("30/90s", 30, 90)],
)
def test_rate_limits_are_read_as_requests_per_period(
    monkeypatch: pytest.MonkeyPatch, raw: str, requests: int, period: int
) -> None:
    limit = settings_from(monkeypatch, {"RATE_LIMIT_UPLOADS_PER_USER": raw}).rate_limit_uploads_per_user
    assert (limit.requests, limit.period_seconds) == (requests, period)


def test_rate_limits_and_proxy_hops_have_production_defaults() -> None:
    settings = Settings()
    assert settings.rate_limit_enabled
    assert str(settings.rate_limit_uploads_per_user) == "20/60s"
    assert str(settings.rate_limit_writes_per_ip) == "300/60s"
    assert settings.trusted_proxy_hops == 1, "one hop: the ALB"
