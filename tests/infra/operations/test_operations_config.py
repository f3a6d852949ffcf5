"""The operations keys: defaults from the seed, every bad value refused naming its key and what is allowed, the
cross-key rules, and a pager URL never echoed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from infra.config import InvalidStackConfig, StackConfig
from infra.config.loader import RawConfig, resolve

DEV = {
    "aws:region": "us-east-1",
    "contentry:tier": "C",
    "contentry:atlasOrgId": "5f1e2d3c4b5a69788796a5b4",
    "contentry:alertEmail": "ops@contentry.ai",
    "contentry:appImageTag": "1.4.2",
}
PROD = {
    **DEV,
    "contentry:tier": "A",
    "contentry:environment": "production",
    "contentry:domain": "api.contentry.ai",
    "contentry:hostedZoneId": "Z0123456789ABCDEFGHIJ",
    "contentry:computeAmiId": "ami-0abcdef1234567890",
}
SECRET_KEYS = frozenset({"contentry:alertHttpsEndpoints", "contentry:externalRedisUrl"})


def resolved(values: dict[str, str], stack: str = "dev") -> StackConfig:
    return resolve(RawConfig("contentry", stack, values, SECRET_KEYS))


def problems(values: dict[str, str], stack: str = "dev") -> str:
    with pytest.raises(InvalidStackConfig) as caught:
        resolved(values, stack)
    return str(caught.value)


def test_the_seeds_figures_are_the_defaults() -> None:
    config = resolved(DEV)
    alarms = config.alarms
    assert (alarms.latency_p95_ms, alarms.error_rate_percent, alarms.cpu_percent) == (500, Decimal(1), 85)
    assert (alarms.memory_percent, alarms.disk_percent, alarms.database_connections_percent) == (90, 85, 80)
    assert (config.firewall.mode.value, config.firewall.rate_limit, config.firewall.rate_window_seconds) == (
        "block",
        2000,
        300,
    )
    assert config.operations.alert_https_endpoint_list == ()


def test_the_trail_follows_the_environment_unless_set() -> None:
    assert resolved(DEV).audit_trail_enabled is False
    assert resolved(PROD, "prod").audit_trail_enabled is True
    assert resolved({**PROD, "contentry:cloudTrailEnabled": "false"}, "prod").audit_trail_enabled is False
    assert resolved({**DEV, "contentry:cloudTrailEnabled": "true"}).audit_trail_enabled is True


BAD = [
    ("contentry:alarmLatencyP95Ms", "10", "50 to 60000 ms"),
    ("contentry:alarmErrorRatePercent", "a lot", "allowed: 0.1 to 50"),
    ("contentry:alarmErrorRatePercent", "75", "0.1 to 50 %"),
    ("contentry:alarmCpuPercent", "120", "10 to 100 %"),
    ("contentry:alarmMemoryPercent", "5", "10 to 100 %"),
    ("contentry:alarmDiskPercent", "101", "10 to 100 %"),
    ("contentry:alarmDatabaseConnectionsPercent", "60", "61 to 95%"),
    ("contentry:alarmCacheEvictionsPerMinute", "0", "1 to 1000000"),
    ("contentry:alarmCacheReplicationLagSeconds", "7200", "1 to 3600 s"),
    ("contentry:wafMode", "detect", "'block' or 'count'"),
    ("contentry:wafRateLimit", "5", "10 to 2000000000"),
    ("contentry:wafRateWindowSeconds", "30", "allowed: 60, 120, 300, 600"),
    ("contentry:wafLargeBodyPaths", "api/imports", "starts with /"),
    ("contentry:cloudTrailEnabled", "sometimes", "true or false"),
]


@pytest.mark.parametrize(("key", "value", "phrase"), BAD, ids=[f"{k.split(':')[1]}={v}" for k, v, _ in BAD])
def test_a_bad_value_is_refused_naming_its_key_and_what_is_allowed(key: str, value: str, phrase: str) -> None:
    message = problems({**DEV, key: value})
    (line,) = [line for line in message.splitlines() if line.startswith(f"  - {key}: ")]
    assert phrase in line, message


def test_every_bad_operations_value_is_reported_at_once() -> None:
    message = problems({**DEV, **{key: value for key, value, _ in BAD if key != "contentry:alarmErrorRatePercent"}})
    for key in {key for key, _, _ in BAD} - {"contentry:alarmErrorRatePercent"}:
        assert f"  - {key}: " in message, key


def test_a_pager_url_is_a_secret_that_must_be_https_and_is_never_echoed() -> None:
    url = "http://events.pager.example/integration/s3cr3tk3y/enqueue"
    message = problems({**DEV, "contentry:alertHttpsEndpoints": f"https://a.example.com/x, {url}"})
    assert "entry 2 is not an https:// URL" in message
    assert "s3cr3tk3y" not in message


def test_a_pager_url_set_without_secret_is_refused() -> None:
    with pytest.raises(InvalidStackConfig, match="alertHttpsEndpoints: holds a credential but is stored in plain"):
        resolve(RawConfig("contentry", "dev", {**DEV, "contentry:alertHttpsEndpoints": "https://a.example.com/x"}))


def test_production_blocks_and_cache_thresholds_need_an_elasticache_cache() -> None:
    assert "wafMode: count: production blocks" in problems({**PROD, "contentry:wafMode": "count"}, "prod")
    external = {
        **DEV,
        "contentry:cacheMode": "external",
        "contentry:externalRedisUrl": "rediss://:pw@redis.example.com:6380",
        "contentry:alarmCacheMemoryPercent": "80",
    }
    assert "alarmCacheMemoryPercent: applies to the ElastiCache cache only" in problems(external)
    assert resolved({**DEV, "contentry:wafMode": "count"}).firewall.mode.value == "count"
