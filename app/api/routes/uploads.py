"""POST /api/uploads: a presigned S3 upload for the authenticated user."""

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, status

from app.api.deps import CurrentUserDep, SettingsDep, StorageDep
from app.schemas.uploads import UploadRequest, UploadResponse
from app.services.storage import upload_key

router = APIRouter(tags=["uploads"])


@router.post(
    "/uploads",
    response_model=UploadResponse,
    responses={
        status.HTTP_401_UNAUTHORIZED: {"description": "Missing, invalid or expired bearer token"},
        status.HTTP_422_UNPROCESSABLE_CONTENT: {"description": "Type not allowed, file too large, bad input"},
    },
)
async def create_upload(
    body: UploadRequest, user: CurrentUserDep, storage: StorageDep, settings: SettingsDep
) -> UploadResponse:
    allowed = settings.upload_allowed_content_types
    if body.content_type not in allowed:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"content_type {body.content_type!r} is not allowed; allowed types: {', '.join(allowed)}.",
        )
    if body.size_bytes > settings.upload_max_bytes:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"size_bytes {body.size_bytes} exceeds the upload limit of {settings.upload_max_bytes} bytes.",
        )
    key = upload_key(user.user_id, body.filename, datetime.now(UTC), uuid.uuid4())
    # The policy caps the upload at the size the client declared, so S3 enforces what the API agreed to.
    upload = await storage.presign_upload(key, content_type=body.content_type, max_bytes=body.size_bytes)
    return UploadResponse(
        key=upload.key,
        upload_url=upload.url,
        fields=upload.fields,
        expires_at=upload.expires_at,
        max_bytes=upload.max_bytes,
        download_url=await storage.download_url(key),
    )
