"""Presigned uploads."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255, description="The file's name on the user's device.")
    content_type: str = Field(
        max_length=100,
        pattern=r"^[a-z]+/[a-z0-9.+-]+$",
        description="The file's media type; must be one of the service's allowed types.",
    )
    size_bytes: int = Field(gt=0, description="The file's size; must not exceed the service's upload limit.")


class UploadResponse(BaseModel):
    key: str = Field(description="Where the file will be stored.")
    upload_id: str = Field(
        description="Once the upload is done, POST /api/uploads/{upload_id}/complete to have the file checked."
    )
    upload_url: str = Field(description="POST the form here: the fields below, then the file as `file`.")
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int
    download_url: str = Field(description="Where the file can be read once uploaded.")
