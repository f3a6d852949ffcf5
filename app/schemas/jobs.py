"""Background jobs, as their owner sees them."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

JOB_ID_PATTERN = r"^[0-9a-f]{32}$"


class JobOut(BaseModel):
    id: str = Field(description="The job's id (also its idempotency key).")
    type: Literal["process_upload", "fan_out_notifications"]
    status: Literal["queued", "running", "succeeded", "failed"] = Field(
        description="queued (waiting, or waiting for a retry), running, succeeded or failed (after its last attempt)."
    )
    attempts: int = Field(description="Attempts started so far.")
    error: str | None = Field(description="The last attempt's error, if it failed.")
    result: dict[str, Any] | None = Field(description="What the job found and did, once it succeeded.")
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class UploadCompleteOut(BaseModel):
    job: JobOut
    status_url: str = Field(description="Where to follow the job: GET it with the same bearer token.")


def job_out(document: dict[str, Any]) -> JobOut:
    return JobOut(
        id=document["_id"],
        type=document["type"],
        status=document["status"],
        attempts=document.get("attempts", 0),
        error=document.get("error"),
        result=document.get("result"),
        created_at=document["created_at"],
        updated_at=document["updated_at"],
        started_at=document.get("started_at"),
        finished_at=document.get("finished_at"),
    )
