"""File storage on S3: presigned uploads that S3 itself constrains, and download URLs that expire: CloudFront
signed URLs when a CDN serves the bucket, presigned S3 GETs otherwise.

Browsers upload straight to S3 with a presigned POST; the API never proxies file bytes. The POST policy pins
the key, the content type and a size range, so S3 rejects anything other than what the API agreed to.
"""

import asyncio
import base64
import binascii
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast
from urllib.parse import quote

from boto3.session import Session
from botocore.config import Config
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from app.core.config import Settings

# Unicode categories removed from file names: control (Cc), format (Cf: bidi overrides, zero-width
# characters), surrogate (Cs), private use (Co), unassigned (Cn), line and paragraph separators (Zl, Zp).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_DASH_RUNS = re.compile(r"-{2,}")
MAX_FILENAME_LENGTH = 128


class S3Presigner(Protocol):
    """The part of boto3's S3 client this service uses (boto3 clients are built at run time, untyped)."""

    def generate_presigned_post(
        self,
        Bucket: str,
        Key: str,
        Fields: dict[str, Any] | None = None,
        Conditions: list[Any] | None = None,
        ExpiresIn: int = 3600,
    ) -> dict[str, Any]: ...

    def generate_presigned_url(
        self, ClientMethod: str, Params: dict[str, Any] | None = None, ExpiresIn: int = 3600
    ) -> str: ...


@dataclass(frozen=True)
class PresignedUpload:
    url: str
    fields: dict[str, str]
    key: str
    expires_at: datetime
    max_bytes: int


def safe_filename(filename: str) -> str:
    """A file name that is safe as the last segment of an S3 key and in a URL, and still the user's name.

    - path components are dropped (a client cannot choose another user's prefix with ../);
    - the name is normalised to NFC (one code point per accented letter, as macOS and Windows may differ);
    - control and format characters are removed: bidi overrides (U+202E makes `\\u202egnp.exe` display as
      `exe.png`), zero-width characters, NUL, newlines; so are surrogates, private-use and unassigned code
      points;
    - letters, marks and digits of every script are kept (`тест файл.png` stays `тест-файл.png`); any other
      run of characters (spaces, punctuation, symbols) becomes one `-`, except `.`, `_` and `-`;
    - a name that sanitises to nothing becomes "file"; at most 128 characters, the extension kept.
    """
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    visible = "".join(
        char for char in unicodedata.normalize("NFC", base) if unicodedata.category(char) not in _INVISIBLE_CATEGORIES
    )
    kept = "".join(char if _is_name_char(char) else "-" for char in visible)
    cleaned = _DASH_RUNS.sub("-", kept).strip(".-_")
    if len(cleaned) > MAX_FILENAME_LENGTH:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            cleaned = f"{stem[: MAX_FILENAME_LENGTH - len(extension) - 1]}.{extension}"
        else:
            cleaned = cleaned[:MAX_FILENAME_LENGTH]
    return cleaned or "file"


def _is_name_char(char: str) -> bool:
    return char in "._-" or unicodedata.category(char)[0] in "LMN"


def upload_key(user_id: str, filename: str, now: datetime, unique: uuid.UUID) -> str:
    """uploads/<user>/<yyyy>/<mm>/<uuid>/<file>: per-user prefixes (for IAM and lifecycle rules), no
    collisions, and the original name kept for the download."""
    return f"uploads/{user_id}/{now:%Y}/{now:%m}/{unique.hex}/{safe_filename(filename)}"


# What upload_key() makes: the owner is the second segment.
# safe_filename() leaves no control character in the name, so none is accepted here either.
_UPLOAD_KEY = re.compile(r"uploads/(?P<user>[A-Za-z0-9_-]{1,64})/\d{4}/\d{2}/[0-9a-f]{32}/[^/\x00-\x1f\x7f]{1,512}")
UPLOAD_ID_PATTERN = r"^[A-Za-z0-9_-]{1,1024}$"


def upload_id(key: str) -> str:
    """The upload's id for the client (POST /api/uploads/{upload_id}/complete): its key, base64url. Stateless: the
    key says whose upload it is, and the presigned POST pinned its content type."""
    return base64.urlsafe_b64encode(key.encode("utf-8")).rstrip(b"=").decode("ascii")


def upload_key_owner(upload_id_text: str) -> tuple[str, str] | None:
    """(key, owner) of an upload id made by upload_id(), or None for anything else."""
    try:
        key = base64.urlsafe_b64decode(upload_id_text + "=" * (-len(upload_id_text) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    match = _UPLOAD_KEY.fullmatch(key)
    if match is None or upload_id(key) != upload_id_text:
        return None
    return key, match["user"]


class CdnUrlSigner:
    """Signs CloudFront URLs with a canned policy: this one URL, until an expiry. CloudFront checks the signature
    against the public key of `key_id` in the distribution's trusted key group, and refuses the URL once expired.
    RSA signatures for CloudFront are SHA-1 with PKCS#1 v1.5: CloudFront's format, as botocore's signer expects."""

    def __init__(
        self, key_id: str, private_key_pem: bytes, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("CDN_SIGNING_PRIVATE_KEY must be an RSA private key (CloudFront signs URLs with RSA)")
        self.key_id = key_id
        self._signer = CloudFrontSigner(
            key_id,
            lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1()),  # noqa: S303 - CloudFront's scheme
        )
        self._clock = clock

    def sign(self, url: str, expires_in_seconds: int) -> str:
        expires = self._clock() + timedelta(seconds=expires_in_seconds)
        return self._signer.generate_presigned_url(url, date_less_than=expires)


class StorageService:
    def __init__(
        self,
        s3: S3Presigner,
        *,
        bucket: str,
        cdn_domain: str | None,
        upload_expires_seconds: int,
        download_expires_seconds: int,
        cdn_signer: CdnUrlSigner | None = None,
    ) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.cdn_domain = cdn_domain
        self.upload_expires_seconds = upload_expires_seconds
        self.download_expires_seconds = download_expires_seconds
        self._cdn_signer = cdn_signer

    async def presign_upload(self, key: str, *, content_type: str, max_bytes: int) -> PresignedUpload:
        """A presigned POST for exactly this key and content type, of at most max_bytes."""
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        fields = {"Content-Type": content_type}
        # boto3 adds the bucket and key conditions itself.
        conditions: list[Any] = [
            ["eq", "$Content-Type", content_type],
            ["content-length-range", 1, max_bytes],
        ]
        expires_at = datetime.now(UTC) + timedelta(seconds=self.upload_expires_seconds)
        # Signing is local CPU work, but the first call may resolve credentials from the instance metadata
        # service over the network: keep it off the event loop.
        presigned = await asyncio.to_thread(
            self._s3.generate_presigned_post,
            Bucket=self.bucket,
            Key=key,
            Fields=fields,
            Conditions=conditions,
            ExpiresIn=self.upload_expires_seconds,
        )
        return PresignedUpload(
            url=presigned["url"],
            fields={name: str(value) for name, value in presigned["fields"].items()},
            key=key,
            expires_at=expires_at,
            max_bytes=max_bytes,
        )

    async def download_url(self, key: str) -> str:
        """Through the CDN when one is configured (cached at the edge, bucket stays private behind origin
        access control), signed to expire after download_expires_seconds; otherwise a presigned S3 GET that
        expires as well. (Unsigned CDN links only in development, without a signing key.)"""
        if self.cdn_domain:
            url = f"https://{self.cdn_domain}/{quote(key)}"
            return url if self._cdn_signer is None else self._cdn_signer.sign(url, self.download_expires_seconds)
        return await asyncio.to_thread(
            self._s3.generate_presigned_url,
            ClientMethod="get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=self.download_expires_seconds,
        )


def create_cdn_signer(settings: Settings) -> CdnUrlSigner | None:
    """The signer for CloudFront URLs when the settings carry a signing key (they must in production with a CDN);
    loading the key here, at startup, makes a bad key fail the boot rather than the first download."""
    pem = settings.cdn_signing_private_key_pem
    if settings.cdn_signing_key_id is None or pem is None:
        return None
    return CdnUrlSigner(settings.cdn_signing_key_id, pem)


def create_s3_client(settings: Settings) -> S3Presigner:
    """An S3 client for the configured region. Signature v4 and virtual-hosted addressing, which every region
    accepts; credentials come from the default chain (the instance or pod role in AWS)."""
    client = Session().client(
        "s3",
        region_name=settings.aws_region,
        endpoint_url=settings.s3_endpoint_url,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if settings.s3_endpoint_url else "virtual"},
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )
    return cast(S3Presigner, client)
