"""The background jobs' and Datadog's config keys (issue 16): presets, cross-key rules, every problem at once."""

from __future__ import annotations

import pytest

from infra.config import InvalidStackConfig, Tier
from infra.config.loader import resolve
from infra.config.model import WorkerPlacement
from tests.infra.test_config_validation import VALID_DEV, VALID_PROD, raw

KEY = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("tier", list(Tier))
def test_every_tier_has_worker_presets_and_defaults(tier: Tier) -> None:
    config = resolve(raw({**VALID_DEV, "contentry:tier": tier.value}))
    jobs = config.jobs
    assert jobs.worker_min_size <= jobs.worker_max_size
    assert jobs.worker_placement is WorkerPlacement.DEDICATED
    assert jobs.time_limit_seconds == 300
    assert config.datadog.enabled is False
    assert config.datadog.site == "datadoghq.com"


def problems(values: dict[str, str], stack: str = "dev", secret_keys: frozenset[str] = frozenset()) -> dict[str, str]:
    with pytest.raises(InvalidStackConfig) as caught:
        resolve(raw(values, stack, secret_keys))
    return {p.key.split(":", 1)[1]: p.message for p in caught.value.problems}


def test_colocated_is_for_tier_c_outside_production_only() -> None:
    assert resolve(raw({**VALID_DEV, "contentry:workerPlacement": "colocated"})).colocated_workers
    found = problems({**VALID_DEV, "contentry:tier": "A", "contentry:workerPlacement": "colocated"})
    assert "tier C only" in found["workerPlacement"]
    assert "dedicated" in found["workerPlacement"]
    found = problems({**VALID_PROD, "contentry:workerPlacement": "colocated"}, "prod")
    assert "production" in found["workerPlacement"]


def test_worker_sizes_and_limits_are_checked_with_what_is_allowed() -> None:
    found = problems(
        {
            **VALID_DEV,
            "contentry:workerMinSize": "3",
            "contentry:workerMaxSize": "2",
            "contentry:jobTimeLimitSeconds": "5000",
            "contentry:workerConcurrency": "0",
            "contentry:workerInstanceType": "t4g.huge-ish",
            "contentry:jobOldestAgeAlarmSeconds": "10",
        }
    )
    assert "workerMinSize <= workerMaxSize" in found["workerMinSize"]
    assert "30 to 3600" in found["jobTimeLimitSeconds"]
    assert "1 to 64" in found["workerConcurrency"]
    assert "not an EC2 instance type" in found["workerInstanceType"]
    assert "60 to 86400" in found["jobOldestAgeAlarmSeconds"]


def test_production_runs_at_least_two_workers() -> None:
    found = problems({**VALID_PROD, "contentry:workerMinSize": "1"}, "prod")
    assert "single point of failure" in found["workerMinSize"]


def test_datadog_needs_a_key_that_is_a_secret_and_a_known_site() -> None:
    found = problems({**VALID_DEV, "contentry:datadogEnabled": "true", "contentry:datadogSite": "datadog.example"})
    assert "pulumi config set --secret datadogApiKey" in found["datadogApiKey"]
    assert "datadoghq.eu" in found["datadogSite"]
    plain = problems({**VALID_DEV, "contentry:datadogEnabled": "true", "contentry:datadogApiKey": KEY})
    assert "plain text" in plain["datadogApiKey"]
    assert KEY not in plain["datadogApiKey"]
    secret = frozenset({"contentry:datadogApiKey"})
    config = resolve(
        raw({**VALID_DEV, "contentry:datadogEnabled": "true", "contentry:datadogApiKey": KEY}, secret_keys=secret)
    )
    assert config.datadog.enabled
    assert config.datadog.api_key.get_secret_value() == KEY
    ignored = problems({**VALID_DEV, "contentry:datadogApiKey": KEY}, secret_keys=secret)
    assert "datadogEnabled is false" in ignored["datadogApiKey"]
    malformed = problems(
        {**VALID_DEV, "contentry:datadogEnabled": "true", "contentry:datadogApiKey": "nope"}, secret_keys=secret
    )
    assert "not shown" in malformed["datadogApiKey"]
    assert "nope" not in malformed["datadogApiKey"]
