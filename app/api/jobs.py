"""Enqueueing from a route: a broker that is down is a 503 with Retry-After and a body that says so."""

from typing import Any

from fastapi import HTTPException, status

from app.jobs.queue import BrokerUnavailableError, JobQueue
from app.jobs.records import JobType
from app.schemas.common import ErrorOut

RETRY_AFTER_SECONDS = 5
QUEUE_UNAVAILABLE_DETAIL = (
    "The job queue is unavailable, so nothing was queued; the rest of the API still works. "
    f"Try again in {RETRY_AFTER_SECONDS} seconds."
)
JOB_QUEUE_UNAVAILABLE_RESPONSE: dict[int | str, dict[str, Any]] = {
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "model": ErrorOut,
        "description": "The job queue (Redis) is down: nothing was queued; retry after Retry-After seconds",
        "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    }
}


async def enqueue_or_503(
    queue: JobQueue, job_type: JobType, task_name: str, user_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    try:
        return await queue.enqueue(job_type, task_name, user_id, params)
    except BrokerUnavailableError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            QUEUE_UNAVAILABLE_DETAIL,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from exc
