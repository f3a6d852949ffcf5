"""A job's document in the `jobs` collection, and the worker's state transitions on it.

    {_id: job id (the Celery task id and the idempotency key), type, user_id (the owner), status, attempts,
     error, params, result, created_at, updated_at, started_at, finished_at}

status: queued -> running -> succeeded | failed; a failed attempt that will be retried goes back to queued
with its error recorded. The seed's indexes serve the reads: (status, created_at) for the oldest queued job,
(user_id, status) for a user's jobs.
"""

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.collection import Collection

JOBS_COLLECTION = "jobs"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobType(enum.StrEnum):
    PROCESS_UPLOAD = "process_upload"
    FAN_OUT_NOTIFICATIONS = "fan_out_notifications"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED)
MAX_ERROR_LENGTH = 1_000


def new_job_id() -> str:
    return uuid.uuid4().hex


def derived_job_id(parent_job_id: str, purpose: str) -> str:
    """A job id fixed by its parent and purpose: a parent that runs again enqueues the same child, not another."""
    return uuid.uuid5(uuid.UUID(hex=parent_job_id), purpose).hex


def new_job(job_id: str, job_type: JobType, user_id: str, params: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "_id": job_id,
        "type": job_type.value,
        "user_id": user_id,
        "status": JobStatus.QUEUED.value,
        "attempts": 0,
        "error": None,
        "params": params,
        "result": None,
        "created_at": now,
        "updated_at": now,
        "started_at": None,
        "finished_at": None,
    }


def short_error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:MAX_ERROR_LENGTH]


class JobStore:
    """The worker's writes to a job document (synchronous pymongo: Celery's prefork processes are not async)."""

    def __init__(self, jobs: Collection[dict[str, Any]], *, clock: Any = None) -> None:
        self._jobs = jobs
        self._clock = clock or (lambda: datetime.now(UTC))

    def get(self, job_id: str) -> dict[str, Any] | None:
        return self._jobs.find_one({"_id": job_id})

    def insert(self, job: dict[str, Any]) -> bool:
        """Insert a job; False if one with its id exists already (a parent that ran again)."""
        result = self._jobs.update_one({"_id": job["_id"]}, {"$setOnInsert": job}, upsert=True)
        return result.upserted_id is not None

    def claim(self, job_id: str) -> dict[str, Any] | None:
        """Mark the job running and count the attempt, unless it already finished (then None: the delivery is a
        duplicate and must do nothing). A job found running was being run by a worker that died: it is taken
        over, since its message is only handed out again after the visibility timeout."""
        now = self._clock()
        return self._jobs.find_one_and_update(
            {"_id": job_id, "status": {"$in": [JobStatus.QUEUED.value, JobStatus.RUNNING.value]}},
            {
                "$set": {"status": JobStatus.RUNNING.value, "started_at": now, "updated_at": now},
                "$inc": {"attempts": 1},
            },
            return_document=ReturnDocument.AFTER,
        )

    def succeed(self, job_id: str, result: dict[str, Any]) -> None:
        now = self._clock()
        self._jobs.update_one(
            {"_id": job_id},
            {
                "$set": {
                    "status": JobStatus.SUCCEEDED.value,
                    "result": result,
                    "error": None,
                    "finished_at": now,
                    "updated_at": now,
                }
            },
        )

    def will_retry(self, job_id: str, error: str, retry_in_seconds: float) -> None:
        now = self._clock()
        self._jobs.update_one(
            {"_id": job_id},
            {
                "$set": {
                    "status": JobStatus.QUEUED.value,
                    "error": error,
                    "retry_in_seconds": round(retry_in_seconds, 3),
                    "updated_at": now,
                }
            },
        )

    def fail(self, job_id: str, error: str) -> None:
        now = self._clock()
        self._jobs.update_one(
            {"_id": job_id},
            {"$set": {"status": JobStatus.FAILED.value, "error": error, "finished_at": now, "updated_at": now}},
        )
