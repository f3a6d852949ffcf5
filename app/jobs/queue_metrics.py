"""`python -m app.jobs.queue_metrics`: the job queue's depth and age, to CloudWatch, every interval.

Every JOBS_METRICS_INTERVAL_SECONDS it publishes to the namespace JOBS_METRICS_NAMESPACE (Contentry/Jobs) with
the dimension Stack=STACK_NAME:
- QueueDepth (Count): messages waiting in the broker's `jobs` queue (the Redis list, with kombu's priority lists);
- OldestJobAgeSeconds (Seconds): age of the oldest job still `queued` in MongoDB (0 if none); a job waiting for a
  retry counts, since it is not done.
The worker fleets scale on the first (target tracking on EC2, KEDA on Kubernetes), and the alarms watch both.
Several exporters may publish the same values (alarms use Maximum). Needs cloudwatch:PutMetricData only.
`--once` publishes once and exits. `--check` is the exporter's health probe: it exits 0 only when a round was
published within the last HEARTBEAT_INTERVALS intervals (a heartbeat file, written after each publish), so a
probe restarts an exporter that is alive but no longer publishing, whatever the reason.
"""

import argparse
import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from boto3.session import Session
from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection
from redis import Redis

from app.core.config import Settings
from app.core.logging import configure_logging
from app.jobs.celery_app import QUEUE
from app.jobs.records import JOBS_COLLECTION, JobStatus

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVALS = 3
"""Rounds an exporter may miss (CloudWatch throttling, a Redis failover) before its probe fails."""

# kombu's Redis transport keeps a queue as one list per priority step: `jobs` (0) and `jobs\x06\x16N`.
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (0, 3, 6, 9)


def queue_keys(queue: str = QUEUE) -> list[str]:
    return [queue if step == 0 else f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS]


def queue_depth(redis: Redis) -> int:
    pipe = redis.pipeline(transaction=False)
    for key in queue_keys():
        pipe.llen(key)
    return sum(int(length) for length in pipe.execute())


def oldest_queued_age_seconds(jobs: Collection[dict[str, Any]], now: datetime) -> float:
    oldest = jobs.find_one(
        {"status": JobStatus.QUEUED.value}, {"created_at": 1}, sort=[("status", ASCENDING), ("created_at", ASCENDING)]
    )
    if oldest is None:
        return 0.0
    return max(0.0, round((now - oldest["created_at"]).total_seconds(), 3))


def metric_data(stack: str, depth: int, age_seconds: float, now: datetime) -> list[dict[str, Any]]:
    dimensions = [{"Name": "Stack", "Value": stack}]
    return [
        {"MetricName": "QueueDepth", "Dimensions": dimensions, "Timestamp": now, "Value": depth, "Unit": "Count"},
        {
            "MetricName": "OldestJobAgeSeconds",
            "Dimensions": dimensions,
            "Timestamp": now,
            "Value": age_seconds,
            "Unit": "Seconds",
        },
    ]


class Heartbeat:
    """When the exporter last published: the time as text in a file, so a separate probe process can read it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def beat(self, now: datetime) -> None:
        partial = self.path.with_suffix(".partial")
        partial.write_text(now.isoformat(), encoding="utf-8")
        partial.replace(self.path)  # atomic: a probe never reads half a timestamp

    def is_fresh(self, now: datetime, max_age_seconds: float) -> bool:
        try:
            last = datetime.fromisoformat(self.path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return False  # never published, or the file is unreadable: not healthy
        return 0 <= (now - last).total_seconds() <= max_age_seconds


def is_publishing(settings: Settings, now: datetime) -> bool:
    """The probe's verdict: a round published within the last HEARTBEAT_INTERVALS intervals."""
    max_age = HEARTBEAT_INTERVALS * settings.jobs_metrics_interval_seconds
    return Heartbeat(settings.jobs_metrics_heartbeat_path).is_fresh(now, max_age)


class QueueMetricsExporter:
    def __init__(self, settings: Settings, *, redis: Redis, jobs: Collection[dict[str, Any]], cloudwatch: Any) -> None:
        self.settings = settings
        self._redis = redis
        self._jobs = jobs
        self._cloudwatch = cloudwatch
        self._heartbeat = Heartbeat(settings.jobs_metrics_heartbeat_path)

    def publish_once(self, now: datetime | None = None) -> dict[str, float]:
        now = now or datetime.now(UTC)
        depth = queue_depth(self._redis)
        age = oldest_queued_age_seconds(self._jobs, now)
        self._cloudwatch.put_metric_data(
            Namespace=self.settings.jobs_metrics_namespace,
            MetricData=metric_data(self.settings.stack_name, depth, age, now),
        )
        self._heartbeat.beat(now)
        return {"QueueDepth": depth, "OldestJobAgeSeconds": age}

    def run(self, stop: threading.Event) -> None:
        """Publish every interval until `stop` is set; a failed round is logged and the next one tried."""
        while not stop.is_set():
            try:
                values = self.publish_once()
                logger.info("queue metrics published", extra=values)
            except Exception as exc:  # noqa: BLE001 - Redis, MongoDB or CloudWatch away: keep the exporter alive
                logger.warning("queue metrics not published", extra={"error": type(exc).__name__, "detail": str(exc)})
            stop.wait(self.settings.jobs_metrics_interval_seconds)


def create_exporter(settings: Settings) -> QueueMetricsExporter:
    # redis-py verifies a rediss:// server's certificate by default (ssl_cert_reqs="required").
    redis = Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=settings.broker_socket_timeout_seconds,
        socket_connect_timeout=settings.broker_connect_timeout_seconds,
        client_name="contentry-queue-metrics",
    )
    mongo: MongoClient[dict[str, Any]] = MongoClient(
        settings.mongo_url.get_secret_value(),
        appname="contentry-queue-metrics",
        maxPoolSize=2,
        serverSelectionTimeoutMS=settings.mongo_server_selection_timeout_ms,
        connectTimeoutMS=settings.mongo_connect_timeout_ms,
        socketTimeoutMS=10_000,
        tz_aware=True,
    )
    cloudwatch = Session().client("cloudwatch", region_name=settings.aws_region)
    return QueueMetricsExporter(
        settings, redis=redis, jobs=mongo.get_database(settings.mongo_database)[JOBS_COLLECTION], cloudwatch=cloudwatch
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.jobs.queue_metrics", description="Publish the job queue's depth and age to CloudWatch."
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="publish once and exit (non-zero if that failed)")
    mode.add_argument(
        "--check",
        action="store_true",
        help=f"exit 0 if a round was published within the last {HEARTBEAT_INTERVALS} intervals, 1 if not (a probe)",
    )
    args = parser.parse_args(argv)
    settings = Settings()
    if args.check:
        return 0 if is_publishing(settings, datetime.now(UTC)) else 1
    configure_logging(settings.log_level)
    exporter = create_exporter(settings)
    if args.once:
        values = exporter.publish_once()
        logger.info("queue metrics published", extra=values)
        return 0
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    exporter.run(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
