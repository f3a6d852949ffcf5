"""GET /api/jobs/{job_id}: a background job's state, to its owner only."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from app.api.deps import CurrentUserDep, JobQueueDep
from app.schemas.common import ErrorOut
from app.schemas.jobs import JOB_ID_PATTERN, JobOut, job_out

router = APIRouter(tags=["jobs"])


@router.get(
    "/jobs/{job_id}",
    response_model=JobOut,
    responses={
        status.HTTP_401_UNAUTHORIZED: {"model": ErrorOut, "description": "Missing, invalid or expired bearer token"},
        status.HTTP_404_NOT_FOUND: {"model": ErrorOut, "description": "No job of the caller has this id"},
    },
)
async def get_job(
    job_id: Annotated[str, Path(pattern=JOB_ID_PATTERN, description="The job's id, as enqueueing returned it.")],
    user: CurrentUserDep,
    queue: JobQueueDep,
) -> JobOut:
    job = await queue.get_for_owner(job_id, user.user_id)
    if job is None:
        # Another user's job is answered exactly like a job that does not exist: its existence is not revealed.
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No job of yours has this id.")
    return job_out(job)
