"""The queue-metrics exporter against a real Redis and MongoDB, with CloudWatch stubbed by botocore's Stubber:
the call it makes is checked parameter by parameter."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from boto3.session import Session
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from pymongo import MongoClient
from pymongo.collection import Collection
from redis import Redis

from app.jobs.queue_metrics import Heartbeat, QueueMetricsExporter, is_publishing, main, queue_keys
from app.jobs.records import JobType, new_job
from tests.app.support import ServerProcess, make_settings

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def redis_db(redis_server: ServerProcess) -> Iterator[Redis]:
    client = Redis(host="127.0.0.1", port=redis_server.port, db=7)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def jobs(mongo_server: ServerProcess) -> Iterator[Collection[dict[str, Any]]]:
    settings = make_settings(mongo_server.port, 0)
    client: MongoClient[dict[str, Any]] = MongoClient(settings.mongo_url.get_secret_value(), tz_aware=True)
    yield client.get_database(settings.mongo_database)["jobs"]
    client.close()


def cloudwatch() -> Any:
    return Session(aws_access_key_id="x", aws_secret_access_key="x").client("cloudwatch", region_name="eu-west-1")


def expected_call(stack: str, depth: int, age: float) -> dict[str, Any]:
    dimensions = [{"Name": "Stack", "Value": stack}]
    return {
        "Namespace": "Contentry/Jobs",
        "MetricData": [
            {"MetricName": "QueueDepth", "Dimensions": dimensions, "Timestamp": NOW, "Value": depth, "Unit": "Count"},
            {
                "MetricName": "OldestJobAgeSeconds",
                "Dimensions": dimensions,
                "Timestamp": NOW,
                "Value": age,
                "Unit": "Seconds",
            },
        ],
    }


def test_depth_and_oldest_queued_age_are_published(
    redis_db: Redis,
    jobs: Collection[dict[str, Any]],
    mongo_server: ServerProcess,
    redis_server: ServerProcess,
    tmp_path: Path,
) -> None:
    settings = make_settings(
        mongo_server.port, redis_server.port, stack_name="prod", jobs_metrics_heartbeat_path=str(tmp_path / "hb")
    )
    redis_db.lpush(queue_keys()[0], "m1", "m2", "m3")
    redis_db.lpush(queue_keys()[2], "high-priority")  # kombu's list for priority 6 counts too
    jobs.insert_many(
        [
            new_job("a" * 32, JobType.PROCESS_UPLOAD, "u", {}, NOW - timedelta(seconds=90)),
            new_job("b" * 32, JobType.PROCESS_UPLOAD, "u", {}, NOW - timedelta(seconds=30)),
            {**new_job("c" * 32, JobType.PROCESS_UPLOAD, "u", {}, NOW - timedelta(hours=2)), "status": "succeeded"},
        ]
    )
    client = cloudwatch()
    with Stubber(client) as stub:
        stub.add_response("put_metric_data", {}, expected_call("prod", 4, 90.0))
        values = QueueMetricsExporter(settings, redis=redis_db, jobs=jobs, cloudwatch=client).publish_once(NOW)
        stub.assert_no_pending_responses()
    assert values == {"QueueDepth": 4, "OldestJobAgeSeconds": 90.0}


def test_an_empty_queue_is_published_as_zeros_and_a_failed_round_does_not_stop_the_exporter(
    redis_db: Redis,
    jobs: Collection[dict[str, Any]],
    mongo_server: ServerProcess,
    redis_server: ServerProcess,
    tmp_path: Path,
) -> None:
    settings = make_settings(
        mongo_server.port,
        redis_server.port,
        stack_name="dev",
        jobs_metrics_interval_seconds=1,
        jobs_metrics_heartbeat_path=str(tmp_path / "hb"),
    )
    client = cloudwatch()
    stop = threading.Event()
    with Stubber(client) as stub:
        stub.add_client_error("put_metric_data", service_error_code="Throttling", http_status_code=400)
        stub.add_response("put_metric_data", {}, {"Namespace": "Contentry/Jobs", "MetricData": stub_any()})
        exporter = QueueMetricsExporter(settings, redis=redis_db, jobs=jobs, cloudwatch=client)
        original = exporter.publish_once
        rounds: list[dict[str, float]] = []

        def counted(now: datetime | None = None) -> dict[str, float]:
            try:
                values = original(now)
            except Exception:
                rounds.append({})
                raise
            rounds.append(values)
            stop.set()
            return values

        exporter.publish_once = counted
        exporter.run(stop)
        stub.assert_no_pending_responses()
    assert rounds == [{}, {"QueueDepth": 0, "OldestJobAgeSeconds": 0.0}]


def stub_any() -> Any:
    from botocore.stub import ANY

    return ANY


def test_the_probe_passes_only_within_three_intervals_of_the_last_publish(tmp_path: Path) -> None:
    """The exporter's liveness and readiness probe (`--check`): fake times, no clock."""
    settings = make_settings(0, 0, jobs_metrics_interval_seconds=60, jobs_metrics_heartbeat_path=str(tmp_path / "hb"))
    assert not is_publishing(settings, NOW), "never published: not ready"
    Heartbeat(settings.jobs_metrics_heartbeat_path).beat(NOW)
    assert is_publishing(settings, NOW + timedelta(seconds=180))
    assert not is_publishing(settings, NOW + timedelta(seconds=181)), "three rounds missed: restart it"
    assert not is_publishing(settings, NOW - timedelta(seconds=1)), "a beat from the future is not trusted"
    (tmp_path / "hb").write_text("garbage", encoding="utf-8")
    assert not is_publishing(settings, NOW)


def test_a_published_round_writes_the_heartbeat_and_a_failed_one_does_not(
    redis_db: Redis,
    jobs: Collection[dict[str, Any]],
    mongo_server: ServerProcess,
    redis_server: ServerProcess,
    tmp_path: Path,
) -> None:
    heartbeat = tmp_path / "hb"
    settings = make_settings(
        mongo_server.port, redis_server.port, stack_name="dev", jobs_metrics_heartbeat_path=str(heartbeat)
    )
    client = cloudwatch()
    with Stubber(client) as stub:
        stub.add_client_error("put_metric_data", service_error_code="Throttling", http_status_code=400)
        stub.add_response("put_metric_data", {}, expected_call("dev", 0, 0.0))
        exporter = QueueMetricsExporter(settings, redis=redis_db, jobs=jobs, cloudwatch=client)
        with pytest.raises(ClientError):
            exporter.publish_once(NOW)
        assert not heartbeat.exists(), "nothing published, no heartbeat"
        exporter.publish_once(NOW)
    assert is_publishing(settings, NOW + timedelta(seconds=60))


def test_check_exits_non_zero_before_the_first_publish(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JOBS_METRICS_HEARTBEAT_PATH", str(tmp_path / "hb"))
    assert main(["--check"]) == 1
    Heartbeat(tmp_path / "hb").beat(datetime.now(UTC))
    assert main(["--check"]) == 0
