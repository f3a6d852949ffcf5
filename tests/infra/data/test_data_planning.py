"""The data tier's pure functions: connection URLs, Atlas sizing, cache topology, policies, the app's settings."""

from __future__ import annotations

import base64
import json
from ipaddress import IPv4Network
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.config import Settings
from infra.config.model import CacheEngine
from infra.planning.data.app_settings import SECRET_KEYS, app_settings_document
from infra.planning.data.atlas_sizing import ATLAS_CIDR, atlas_cidr_for
from infra.planning.data.bucket_policies import log_bucket_policy, uploads_bucket_policy
from infra.planning.data.cache_engine import engine_settings, topology
from infra.planning.data.connection_urls import mongo_url, peered_srv, redis_url
from infra.planning.protection import protection_for

HOST = "contentry-prod-pri.ab1cd.mongodb.net"
# Printable ASCII a generated or pasted password could hold, including every URL delimiter.
passwords = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=64)


@given(password=passwords, username=st.sampled_from(["contentry-app", "app@team", "a:b/c"]))
def test_mongo_url_round_trips_any_credentials(password: str, username: str) -> None:
    url = mongo_url(f"mongodb+srv://{HOST}", username, password, "contentry")
    parts = urlsplit(url)
    assert parts.scheme == "mongodb+srv"
    assert parts.hostname == HOST
    assert unquote(parts.username or "") == username
    assert unquote(parts.password or "") == password
    assert parts.path == "/contentry"
    assert parts.query == "retryWrites=true&w=majority"


def test_mongo_url_is_what_the_app_accepts() -> None:
    url = mongo_url(HOST, "contentry-app", "p@ss:w/rd?#", "contentry")
    settings = Settings(mongo_url=url)  # type: ignore[call-arg]
    assert settings.mongo_database == "contentry"
    assert "p%40ss%3Aw%2Frd%3F%23" in url


@pytest.mark.parametrize("address", ["mongodb://host:27017", "mongodb+srv://u:p@host", "", "mongodb+srv://"])
def test_mongo_url_refuses_addresses_that_are_not_bare_srv_hosts(address: str) -> None:
    with pytest.raises(ValueError, match="mongodb\\+srv"):
        mongo_url(address, "u", "p", "contentry")


@pytest.mark.parametrize("database", ["", "a/b"])
def test_mongo_url_needs_a_plain_database_name(database: str) -> None:
    with pytest.raises(ValueError, match="database name"):
        mongo_url(HOST, "u", "p", database)


@given(token=passwords)
def test_redis_url_carries_the_auth_token_over_tls(token: str) -> None:
    url = redis_url("master.cache.use1.cache.amazonaws.com", 6379, token)
    parts = urlsplit(url)
    assert parts.scheme == "rediss"
    assert parts.username in (None, "")
    assert unquote(parts.password or "") == token
    assert (parts.hostname, parts.port, parts.path) == ("master.cache.use1.cache.amazonaws.com", 6379, "/0")


def test_redis_url_is_what_the_app_accepts_and_refuses_bad_hosts() -> None:
    Settings(redis_url=redis_url("master.x.cache.amazonaws.com", 6379, "t0ken"))  # type: ignore[call-arg]
    assert redis_url("h", 6379, "t", tls=False).startswith("redis://")
    for host in ("", "a/b", "u@h"):
        with pytest.raises(ValueError, match="host name"):
            redis_url(host, 6379, "t")


def test_peered_srv_prefers_the_peering_string_and_falls_back_to_the_standard_one() -> None:
    private, standard = f"mongodb+srv://{HOST}", "mongodb+srv://contentry-prod.ab1cd.mongodb.net"
    assert peered_srv(private, standard) == private
    # The first `up` may finish before Atlas lists the peering string: the standard one resolves privately
    # inside the peered VPC, so the app still gets a working MONGO_URL instead of a failed deployment.
    assert peered_srv(None, standard) == standard
    assert peered_srv("", standard) == standard
    with pytest.raises(ValueError, match="no SRV connection string"):
        peered_srv(None, None)


def test_atlas_cidr_must_not_overlap_the_vpc() -> None:
    assert atlas_cidr_for(IPv4Network("10.20.0.0/16")) == ATLAS_CIDR
    with pytest.raises(ValueError, match="overlaps"):
        atlas_cidr_for(IPv4Network("192.168.0.0/16"))


@pytest.mark.parametrize("replicas", [0, 1, 2, 5])
def test_a_replica_turns_on_failover_and_multi_az(replicas: int) -> None:
    shape = topology(replicas)
    assert shape.cache_clusters == replicas + 1
    assert shape.automatic_failover is (replicas >= 1)
    assert shape.multi_az is (replicas >= 1)


def test_engine_settings_pair_version_and_parameter_family() -> None:
    valkey, redis = engine_settings(CacheEngine.VALKEY), engine_settings(CacheEngine.REDIS)
    assert (valkey.engine, valkey.parameter_family) == ("valkey", "valkey8")
    assert (redis.engine, redis.parameter_family) == ("redis", "redis7")
    for settings in (valkey, redis):
        assert settings.parameter_family.endswith(settings.version.split(".")[0])


def test_uploads_policy_denies_plain_http_and_admits_only_the_distribution() -> None:
    bucket, distribution = "arn:aws:s3:::uploads", "arn:aws:cloudfront::1:distribution/E1"
    statements = json.loads(uploads_bucket_policy(bucket, distribution))["Statement"]
    deny, allow = statements
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {bucket, f"{bucket}/*"}
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution}}
    assert len(json.loads(uploads_bucket_policy(bucket, None))["Statement"]) == 1


def test_log_policy_admits_s3_logging_from_the_uploads_bucket_only() -> None:
    statements = json.loads(log_bucket_policy("arn:aws:s3:::logs", "arn:aws:s3:::up", "123", "s3-access/"))["Statement"]
    allow = statements[1]
    assert allow["Resource"] == "arn:aws:s3:::logs/s3-access/*"
    assert allow["Condition"] == {
        "ArnLike": {"aws:SourceArn": "arn:aws:s3:::up"},
        "StringEquals": {"aws:SourceAccount": "123"},
    }


def test_app_settings_hold_exactly_the_apps_keys() -> None:
    values: dict[str, Any] = {
        "mongo_url": "mongodb+srv://u:p@h/contentry",
        "redis_url": "rediss://:t@h:6379/0",
        "jwt_keys": {1: "j" * 64, 2: "k" * 64},
        "jwt_key_generation": 1,
        "health_detailed_token": "h" * 64,
        "s3_bucket": "files-uploads-abc",
    }
    without_cdn = json.loads(app_settings_document(**values, cdn_domain=None))
    assert set(without_cdn) == set(SECRET_KEYS)
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"
    signing: dict[str, Any] = {"cdn_signing_key_id": "K2JCJMDEHXQW5F", "cdn_signing_private_key_pem": pem}
    with_cdn = json.loads(app_settings_document(**values, cdn_domain="cdn.example.com", **signing))
    assert set(with_cdn) == {*SECRET_KEYS, "CDN_DOMAIN", "CDN_SIGNING_KEY_ID", "CDN_SIGNING_PRIVATE_KEY"}
    # One line (the instance writes each key as one env-file line), and the PEM back when decoded.
    assert "\n" not in with_cdn["CDN_SIGNING_PRIVATE_KEY"]
    assert base64.b64decode(with_cdn["CDN_SIGNING_PRIVATE_KEY"]).decode() == pem
    with pytest.raises(ValueError, match="signed URLs only"):
        app_settings_document(**values, cdn_domain="cdn.example.com")
    with_origins = json.loads(app_settings_document(**values, cdn_domain=None, cors_origins=("https://a.example.com",)))
    assert with_origins["CORS_ORIGINS"] == "https://a.example.com"
    with pytest.raises(ValueError, match="JWT keys of generations \\[1\\] are empty"):
        app_settings_document(**{**values, "jwt_keys": {1: "", 2: "k" * 64}}, cdn_domain=None)
    with pytest.raises(ValueError, match="needs the keys of generations \\(1, 2, 3\\)"):
        app_settings_document(**{**values, "jwt_key_generation": 2}, cdn_domain=None)


def test_protection_differs_by_environment() -> None:
    prod, dev = protection_for(True), protection_for(False)
    assert (prod.protect, prod.retain_on_delete, prod.deletion_protection) == (True, True, True)
    assert (dev.protect, dev.retain_on_delete, dev.deletion_protection) == (False, False, False)
    assert (prod.secret_recovery_window_days, dev.secret_recovery_window_days) == (30, 0)
    assert (prod.force_destroy_buckets, dev.force_destroy_buckets) == (False, True)
