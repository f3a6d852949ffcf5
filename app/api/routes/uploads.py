"""POST /api/uploads: a presigned S3 upload for the authenticated user; POST /api/uploads/{upload_id}/complete:
the file is uploaded, check it (a background job, app/jobs/uploads.py).

The caller is authenticated, then rate-limited (the write and the upload limits, per user and per address), before
the body is read (app.api.body); the body is at most JSON_BODY_MAX_BYTES
(app.core.http_guards), and the allowed types and the size limit are part of the published schema
(app.api.openapi), so a client can see what the server enforces.
"""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.exceptions import RequestValidationError

from app.api.body import UNSUPPORTED_MEDIA_TYPE_DETAIL, openapi_body, read_json
from app.api.deps import JobQueueDep, SettingsDep, StorageDep
from app.api.jobs import JOB_QUEUE_UNAVAILABLE_RESPONSE, enqueue_or_503
from app.api.rate_limit import RATE_LIMITED_RESPONSE, rate_limited
from app.core.security import AuthenticatedUser
from app.jobs.celery_app import PROCESS_UPLOAD
from app.jobs.records import JobType
from app.schemas.common import ErrorOut, ValidationErrorsOut
from app.schemas.jobs import UploadCompleteOut, job_out
from app.schemas.uploads import UploadRequest, UploadResponse
from app.services.rate_limit import Action
from app.services.storage import UPLOAD_ID_PATTERN, upload_id, upload_key, upload_key_owner

router = APIRouter(tags=["uploads"])


def policy_errors(body: UploadRequest, *, allowed_types: list[str], max_bytes: int) -> list[dict[str, Any]]:
    """What the settings forbid, as validation errors located like pydantic's."""
    errors: list[dict[str, Any]] = []
    if body.content_type not in allowed_types:
        errors.append(
            {
                "type": "enum",
                "loc": ("body", "content_type"),
                "msg": f"content_type {body.content_type!r} is not allowed; allowed types: {', '.join(allowed_types)}.",
                "input": body.content_type,
            }
        )
    if body.size_bytes > max_bytes:
        errors.append(
            {
                "type": "less_than_equal",
                "loc": ("body", "size_bytes"),
                "msg": f"size_bytes {body.size_bytes} exceeds the upload limit of {max_bytes} bytes.",
                "input": body.size_bytes,
            }
        )
    return errors


# One callable for the route and its body dependency: FastAPI resolves it once per request, so one check.
UploaderDep = Annotated[AuthenticatedUser, Depends(rate_limited(Action.WRITE, Action.UPLOAD))]


async def authorized_upload_request(request: Request, _: UploaderDep, settings: SettingsDep) -> UploadRequest:
    """The body, read only once the bearer token checked out and the caller is within its limits (UploaderDep is
    resolved first)."""
    body = await read_json(request, UploadRequest)
    errors = policy_errors(
        body, allowed_types=settings.upload_allowed_content_types, max_bytes=settings.upload_max_bytes
    )
    if errors:
        raise RequestValidationError(errors)
    return body


UploadRequestDep = Annotated[UploadRequest, Depends(authorized_upload_request)]


@router.post(
    "/uploads",
    response_model=UploadResponse,
    openapi_extra=openapi_body(UploadRequest),
    responses={
        status.HTTP_401_UNAUTHORIZED: {"model": ErrorOut, "description": "Missing, invalid or expired bearer token"},
        status.HTTP_413_CONTENT_TOO_LARGE: {"model": ErrorOut, "description": "Body over JSON_BODY_MAX_BYTES"},
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: {"model": ErrorOut, "description": UNSUPPORTED_MEDIA_TYPE_DETAIL},
        status.HTTP_422_UNPROCESSABLE_CONTENT: {
            "model": ValidationErrorsOut,
            "description": "Malformed body (not JSON, not UTF-8, a field missing or invalid), a type that is "
            "not allowed, or a size over the limit: one entry per problem, naming the field",
        },
        **RATE_LIMITED_RESPONSE,
    },
)
async def create_upload(
    user: UploaderDep, body: UploadRequestDep, storage: StorageDep, settings: SettingsDep
) -> UploadResponse:
    key = upload_key(user.user_id, body.filename, datetime.now(UTC), uuid.uuid4())
    # The policy caps the upload at the size the client declared, so S3 enforces what the API agreed to.
    upload = await storage.presign_upload(key, content_type=body.content_type, max_bytes=body.size_bytes)
    return UploadResponse(
        key=upload.key,
        upload_id=upload_id(upload.key),
        upload_url=upload.url,
        fields=upload.fields,
        expires_at=upload.expires_at,
        max_bytes=upload.max_bytes,
        download_url=await storage.download_url(key),
    )


@router.post(
    "/uploads/{upload_id}/complete",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=UploadCompleteOut,
    responses={
        status.HTTP_401_UNAUTHORIZED: {"model": ErrorOut, "description": "Missing, invalid or expired bearer token"},
        status.HTTP_404_NOT_FOUND: {"model": ErrorOut, "description": "No upload of the caller has this id"},
        **RATE_LIMITED_RESPONSE,
        **JOB_QUEUE_UNAVAILABLE_RESPONSE,
    },
)
async def complete_upload(
    upload_id: Annotated[str, Path(pattern=UPLOAD_ID_PATTERN, description="The upload_id POST /api/uploads gave.")],
    user: UploaderDep,
    queue: JobQueueDep,
) -> UploadCompleteOut:
    """Queue the check of an uploaded file: its type against its bytes, size and SHA-256, a thumbnail for images,
    quarantine for a file that is not what it claims. Follow it at `status_url`."""
    found = upload_key_owner(upload_id)
    if found is None or found[1] != user.user_id:
        # Someone else's upload looks exactly like no upload at all.
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No upload of yours has this id.")
    job = await enqueue_or_503(queue, JobType.PROCESS_UPLOAD, PROCESS_UPLOAD, user.user_id, {"key": found[0]})
    return UploadCompleteOut(job=job_out(job), status_url=f"/api/jobs/{job['_id']}")
