"""Upload processing: what happens to a file once its presigned upload is complete.

The job reads the object (at most UPLOAD_MAX_BYTES, hashed as it streams), checks the type the client declared
(the object's Content-Type, which the presigned POST pinned) against the file's magic bytes (`filetype`), records
size and SHA-256, and makes a JPEG thumbnail of images with Pillow, decoding at most IMAGE_MAX_PIXELS pixels and
only with the declared format's decoder. A file that is not what it claims (another type, an image that does not
decode, too many pixels, too large) is moved under UPLOAD_QUARANTINE_PREFIX: copied, then deleted, and recorded.

Every step is idempotent: a second run of the same job rewrites the same thumbnail, and finds a file it already
quarantined under the quarantine prefix. Writes name no encryption: the bucket's default encryption applies.
"""

import hashlib
import io
import logging
from dataclasses import dataclass
from typing import Any

import filetype
from botocore.exceptions import ClientError
from PIL import Image, ImageOps, UnidentifiedImageError

from app.jobs.errors import RetryableJobError

logger = logging.getLogger(__name__)

READ_CHUNK_BYTES = 1024 * 1024
MAGIC_BYTES = 8 * 1024  # filetype reads at most the first 8 KiB (its _NUM_SIGNATURE_BYTES = 8192)
THUMBNAIL_CONTENT_TYPE = "image/jpeg"
# The only decoder Pillow may use for each declared image type: a file declared PNG is never parsed as anything
# else, which keeps Pillow's rarer (and historically buggier) decoders away from user files.
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    image_max_pixels: int
    thumbnail_max_edge: int
    quarantine_prefix: str
    thumbnail_prefix: str


class UploadNotFoundError(RetryableJobError):
    """The object is not there (yet): the client may have called `complete` before its upload landed."""


class Quarantine(Exception):  # a verdict, raised to leave the checks early
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def quarantine_key(key: str, prefix: str) -> str:
    return f"{prefix}{key}"


def thumbnail_key(key: str, prefix: str) -> str:
    return f"{prefix}{key}.jpg"


def detected_type(head: bytes) -> str | None:
    """The media type the file's magic bytes say, or None when filetype knows none of them."""
    return filetype.guess_mime(head)


def make_thumbnail(data: bytes, content_type: str, limits: UploadLimits) -> bytes:
    """A JPEG at most thumbnail_max_edge on its longer side. Raises Quarantine for an image that does not decode
    with its declared format's decoder or has more pixels than allowed."""
    image_format = PILLOW_FORMATS.get(content_type)
    if image_format is None:
        raise Quarantine("unsupported_image", f"no thumbnail decoder for {content_type}")
    try:
        with Image.open(io.BytesIO(data), formats=[image_format]) as image:
            # Checked from the header, before any pixel is decoded: a few KB can declare gigapixels.
            if image.width * image.height > limits.image_max_pixels:
                raise Quarantine(
                    "too_many_pixels",
                    f"{image.width}x{image.height} pixels exceed IMAGE_MAX_PIXELS ({limits.image_max_pixels})",
                )
            edge = limits.thumbnail_max_edge
            image.draft("RGB", (edge, edge))  # JPEG: decode at a reduced scale, far less memory and time
            oriented = ImageOps.exif_transpose(image)
            oriented.thumbnail((edge, edge))
            out = io.BytesIO()
            oriented.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
            return out.getvalue()
    except Image.DecompressionBombError as exc:
        raise Quarantine("too_many_pixels", str(exc)) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        # Pillow reports truncated and malformed files as OSError, SyntaxError or ValueError.
        raise Quarantine("undecodable_image", f"{type(exc).__name__}: {exc}") from exc


class UploadProcessor:
    """Runs the checks on one object of the bucket with a boto3 S3 client (synchronous, in the worker)."""

    def __init__(self, s3: Any, bucket: str, limits: UploadLimits) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._limits = limits

    def process(self, key: str) -> dict[str, Any]:
        try:
            obj = self._s3.get_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) not in _MISSING:
                raise
            moved = quarantine_key(key, self._limits.quarantine_prefix)
            if self._exists(moved):
                # An earlier run quarantined it and died before recording that.
                return {"key": key, "quarantined": True, "quarantine_key": moved, "reason": "already_quarantined"}
            raise UploadNotFoundError(f"s3://{self._bucket}/{key} does not exist") from exc
        declared = str(obj.get("ContentType") or "application/octet-stream").split(";")[0].strip().lower()
        size = int(obj.get("ContentLength") or 0)
        facts: dict[str, Any] = {"key": key, "size_bytes": size, "declared_type": declared}
        try:
            if size > self._limits.max_bytes:
                obj["Body"].close()
                raise Quarantine("too_large", f"{size} bytes exceed UPLOAD_MAX_BYTES ({self._limits.max_bytes})")
            data, digest = self._read(obj["Body"], keep=declared.startswith("image/"))
            facts["sha256"] = digest
            facts["detected_type"] = detected = detected_type(data[:MAGIC_BYTES])
            if detected != declared:
                raise Quarantine(
                    "content_type_mismatch",
                    f"declared {declared}, but the file's bytes are {detected or 'of no known type'}",
                )
            if declared.startswith("image/"):
                thumbnail = make_thumbnail(data, declared, self._limits)
                facts["thumbnail_key"] = thumb_key = thumbnail_key(key, self._limits.thumbnail_prefix)
                self._s3.put_object(
                    Bucket=self._bucket,
                    Key=thumb_key,
                    Body=thumbnail,
                    ContentType=THUMBNAIL_CONTENT_TYPE,
                )
        except Quarantine as verdict:
            return {**facts, **self._quarantine(key, verdict)}
        return {**facts, "quarantined": False}

    def _read(self, body: Any, *, keep: bool) -> tuple[bytes, str]:
        """Stream the body through SHA-256, never past max_bytes; keeps every byte only when needed (images),
        else the first MAGIC_BYTES."""
        digest = hashlib.sha256()
        kept = bytearray()
        total = 0
        try:
            while chunk := body.read(READ_CHUNK_BYTES):
                total += len(chunk)
                if total > self._limits.max_bytes:
                    raise Quarantine("too_large", f"more than UPLOAD_MAX_BYTES ({self._limits.max_bytes}) bytes")
                digest.update(chunk)
                if keep or len(kept) < MAGIC_BYTES:
                    kept += chunk if keep else chunk[: MAGIC_BYTES - len(kept)]
        finally:
            body.close()
        return bytes(kept), digest.hexdigest()

    def _quarantine(self, key: str, verdict: Quarantine) -> dict[str, Any]:
        """Copy the object under the quarantine prefix, then delete the original (S3 has no move). A crash between
        the two leaves both; the next run copies again (same bytes) and deletes."""
        moved = quarantine_key(key, self._limits.quarantine_prefix)
        self._s3.copy_object(
            Bucket=self._bucket,
            Key=moved,
            CopySource={"Bucket": self._bucket, "Key": key},
            MetadataDirective="COPY",
        )
        self._s3.delete_object(Bucket=self._bucket, Key=key)
        logger.warning("upload quarantined", extra={"key": key, "quarantine_key": moved, "reason": verdict.reason})
        return {"quarantined": True, "quarantine_key": moved, "reason": verdict.reason, "detail": str(verdict)}

    def _exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _MISSING:
                return False
            raise
        return True
