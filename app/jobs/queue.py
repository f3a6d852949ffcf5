"""Enqueueing from the API: record the job, then publish its message; and the owner's read of a job.

The record comes first, so a worker never receives a job it cannot find. If publishing fails (the broker is
down or does not answer within the deadlines), the record is removed again, best effort, and the caller answers
503: the client never saw the job id and simply calls again. Publishing is kombu's synchronous client, run in a
thread with connect and socket deadlines and a bounded number of retries (app.jobs.celery_app), so a request
never hangs on the broker; reads (GET /api/jobs/{id} and every other route) do not touch it.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from celery import Celery
from kombu.exceptions import KombuError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from app.jobs.celery_app import QUEUE
from app.jobs.records import JobStatus, JobType, new_job, new_job_id

logger = logging.getLogger(__name__)
BROKER_ERRORS = (KombuError, RedisError, OSError)


class BrokerUnavailableError(Exception):
    """The job could not be handed to the broker; nothing was enqueued."""


class JobQueue:
    def __init__(
        self,
        celery: Celery,
        jobs: AsyncCollection[dict[str, Any]],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._celery = celery
        self._jobs = jobs
        self._clock = clock

    async def enqueue(self, job_type: JobType, task_name: str, user_id: str, params: dict[str, Any]) -> dict[str, Any]:
        job = new_job(new_job_id(), job_type, user_id, params, self._clock())
        await self._jobs.insert_one(job)
        try:
            await asyncio.to_thread(self._publish, task_name, job["_id"])
        except BROKER_ERRORS as exc:
            logger.warning(
                "job not enqueued: broker unavailable",
                extra={"job_id": job["_id"], "type": job_type.value, "error": type(exc).__name__},
            )
            with contextlib.suppress(PyMongoError):
                await self._jobs.delete_one({"_id": job["_id"], "status": JobStatus.QUEUED.value})
            raise BrokerUnavailableError(str(exc)) from exc
        return job

    def _publish(self, task_name: str, job_id: str) -> None:
        # The task id is the job id: the worker's idempotency key, and what a redelivery carries.
        # ignore_result: otherwise Celery subscribes to the result store for every task it sends (a pub/sub
        # connection per process, and an error if Redis is away); the job's state is in MongoDB.
        self._celery.send_task(task_name, args=[job_id], task_id=job_id, queue=QUEUE, ignore_result=True)

    async def get_for_owner(self, job_id: str, user_id: str) -> dict[str, Any] | None:
        """The job if `user_id` owns it; None otherwise, whether it exists or not (do not reveal which)."""
        return await self._jobs.find_one({"_id": job_id, "user_id": user_id}, {"params": 0})

    def close(self) -> None:
        self._celery.close()
