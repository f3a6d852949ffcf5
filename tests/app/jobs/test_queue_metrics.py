"""The queue-metrics exporter against a real Redis and MongoDB, with CloudWatch stubbed by botocore's Stubber:
the call it makes is checked parameter by parameter."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from boto3.session import Session
from botocore.stub import Stubber
from pymongo import MongoClient
from pymongo.collection import Collection
from redis import Redis

from app.jobs.queue_metrics import QueueMetricsExporter, queue_keys
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
    redis_db: Redis, jobs: Collection[dict[str, Any]], mongo_server: ServerProcess, redis_server: ServerProcess
) -> None:
    settings = make_settings(mongo_server.port, redis_server.port, stack_name="prod")
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
    redis_db: Redis, jobs: Collection[dict[str, Any]], mongo_server: ServerProcess, redis_server: ServerProcess
) -> None:
    settings = make_settings(mongo_server.port, redis_server.port, stack_name="dev", jobs_metrics_interval_seconds=1)
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
