"""CORS: one `corsOrigins` key feeds both the uploads bucket's CORS rules and the app's CORS_ORIGINS, with the
API's own https://<domain> always in; each entry is validated as a browser origin."""

from __future__ import annotations

import pytest

from app.core.config import Settings
from infra.config import InvalidStackConfig
from infra.config.loader import resolve
from tests.infra.data.data_support import app_settings_of
from tests.infra.plans import plan_of
from tests.infra.test_config_validation import VALID_DEV, VALID_PROD, raw

CORS = "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"
FRONT_ENDS = "https://app.example.com,https://admin.example.com:8443"


def bucket_origins(stack: str, overrides: tuple[str, ...] = ()) -> list[str] | None:
    rules = plan_of(stack, overrides).of_type(CORS)
    if not rules:
        return None
    (rule,) = rules[0]["inputs"]["corsRules"]
    return rule["allowedOrigins"]


def test_the_bucket_and_the_app_get_the_same_origins_with_the_apis_own_first() -> None:
    overrides = (f"corsOrigins={FRONT_ENDS}",)
    expected = ["https://api.example.com", "https://app.example.com", "https://admin.example.com:8443"]
    assert bucket_origins("prod", overrides) == expected
    assert app_settings_of("prod", overrides)["CORS_ORIGINS"] == ",".join(expected)


def test_by_default_only_the_apis_own_origin_as_today() -> None:
    assert bucket_origins("prod") == ["https://api.example.com"]
    assert app_settings_of("prod")["CORS_ORIGINS"] == "https://api.example.com"


def test_without_a_domain_or_origins_there_is_no_cors_at_all() -> None:
    assert bucket_origins("dev") is None
    assert "CORS_ORIGINS" not in app_settings_of("dev")


def test_a_development_stack_without_a_domain_may_admit_a_local_front_end() -> None:
    overrides = ("corsOrigins=http://localhost:3000",)
    assert bucket_origins("dev", overrides) == ["http://localhost:3000"]
    assert app_settings_of("dev", overrides)["CORS_ORIGINS"] == "http://localhost:3000"


def test_the_app_reads_the_origins_as_its_production_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    values = app_settings_of("prod", (f"corsOrigins={FRONT_ENDS}",))
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("APP_ENV", "production")
    assert Settings().cors_origins == values["CORS_ORIGINS"].split(",")


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("https://App.Example.com/", ("https://app.example.com",)),  # as the Origin header spells it
        ("https://app.example.com:443", ("https://app.example.com",)),  # browsers omit the default port
        (
            " https://a.example.com , https://a.example.com,https://b.example.com:8443",
            ("https://a.example.com", "https://b.example.com:8443"),
        ),
        ("", ()),
    ],
)
def test_origins_are_normalized(given: str, normalized: tuple[str, ...]) -> None:
    assert resolve(raw({**VALID_DEV, "contentry:corsOrigins": given})).cors_origins == normalized


@pytest.mark.parametrize(
    ("stack", "given", "says"),
    [
        ("dev", "*", "no wildcard"),
        ("dev", "https://*.example.com", "no wildcard"),
        ("prod", "*", "no wildcard"),
        ("dev", "app.example.com", "is not an origin: scheme://host[:port]"),
        ("dev", "ftp://app.example.com", "is not an origin: scheme://host[:port]"),
        ("dev", "https://app.example.com/callback", "no path or query"),
        ("dev", "https://app.example.com?x=1", "no path or query"),
        ("dev", "https://app.example.com:99999", "port is not a number"),
        ("prod", "http://app.example.com", "production admits https:// origins only"),
    ],
)
def test_bad_origins_are_refused_naming_the_key(stack: str, given: str, says: str) -> None:
    values = {**(VALID_PROD if stack == "prod" else VALID_DEV), "contentry:corsOrigins": given}
    with pytest.raises(InvalidStackConfig) as caught:
        resolve(raw(values, stack))
    lines = [str(problem) for problem in caught.value.problems if problem.key == "contentry:corsOrigins"]
    assert lines, str(caught.value)
    assert says in lines[0]


def test_an_origin_with_a_password_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidStackConfig) as caught:
        resolve(raw({**VALID_DEV, "contentry:corsOrigins": "https://me:hunter2@app.example.com"}))
    assert "names a user" in str(caught.value)
    assert "hunter2" not in str(caught.value)
