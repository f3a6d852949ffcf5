"""A failure the task could not record itself (the hard time limit kills the pool process; Celery reports it in
the worker's main process and acknowledges the message): the job is retried with a new message after a
backoff, or recorded failed after its last attempt, never left `running`."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from billiard.exceptions import TimeLimitExceeded
from pymongo import MongoClient
from pymongo.collection import Collection

from app.jobs.celery_app import PROCESS_UPLOAD
from app.jobs.records import JobStore, JobType, new_job
from app.jobs.tasks import record_escaped_failure
from tests.app.support import ServerProcess, make_settings


class CountingCelery:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_task(self, name: str, **options: Any) -> None:
        self.sent.append({"name": name, **options})


@pytest.fixture
def jobs(mongo_server: ServerProcess) -> Iterator[Collection[dict[str, Any]]]:
    settings = make_settings(mongo_server.port, 0)
    client: MongoClient[dict[str, Any]] = MongoClient(settings.mongo_url.get_secret_value(), tz_aware=True)
    yield client.get_database(settings.mongo_database)["jobs"]
    client.close()


def running_job(jobs: Collection[dict[str, Any]], job_id: str, attempts: int) -> None:
    job = new_job(job_id, JobType.PROCESS_UPLOAD, "u", {"key": "k"}, datetime.now(UTC))
    jobs.insert_one({**job, "status": "running", "attempts": attempts})


@pytest.mark.parametrize(
    ("attempts", "outcome", "status", "published"), [(1, "retried", "queued", 1), (3, "failed", "failed", 0)]
)
def test_a_hard_time_limit_is_retried_or_recorded_as_the_last_failure(
    jobs: Collection[dict[str, Any]],
    mongo_server: ServerProcess,
    attempts: int,
    outcome: str,
    status: str,
    published: int,
) -> None:
    settings = make_settings(mongo_server.port, 0, job_max_attempts=3)
    job_id = f"{attempts:032x}"
    running_job(jobs, job_id, attempts)
    celery = CountingCelery()

    result = record_escaped_failure(celery, JobStore(jobs), settings, PROCESS_UPLOAD, job_id, TimeLimitExceeded(300))

    job = jobs.find_one({"_id": job_id})
    assert job is not None
    assert (result, job["status"]) == (outcome, status)
    assert "TimeLimitExceeded" in job["error"]
    assert len(celery.sent) == published
    if published:
        [message] = celery.sent
        assert (message["name"], message["args"], message["task_id"]) == (PROCESS_UPLOAD, [job_id], job_id)
        assert 0 < message["countdown"] <= settings.job_retry_backoff_max_seconds


def test_a_finished_job_is_left_alone(jobs: Collection[dict[str, Any]], mongo_server: ServerProcess) -> None:
    settings = make_settings(mongo_server.port, 0)
    job_id = "f" * 32
    jobs.insert_one({**new_job(job_id, JobType.PROCESS_UPLOAD, "u", {}, datetime.now(UTC)), "status": "succeeded"})
    celery = CountingCelery()
    assert (
        record_escaped_failure(celery, JobStore(jobs), settings, PROCESS_UPLOAD, job_id, RuntimeError("x")) == "nothing"
    )
    assert celery.sent == []
    stored = jobs.find_one({"_id": job_id})
    assert stored is not None
    assert stored["status"] == "succeeded"
