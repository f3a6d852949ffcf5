"""POST /api/uploads and the S3 storage service (moto)."""

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from boto3.session import Session
from fastapi import FastAPI
from moto.server import ThreadedMotoServer

from app.api.deps import get_storage
from app.core.config import Settings
from app.main import create_app
from app.services.storage import StorageService, create_s3_client, safe_filename, upload_key
from tests.app.support import TEST_JWT_SECRET, bearer_token, free_port, serve

pytestmark = pytest.mark.anyio

VALID_REQUEST = {"filename": "Summer launch.png", "content_type": "image/png", "size_bytes": 2048}


def decoded_policy(fields: dict[str, str]) -> dict[str, Any]:
    return json.loads(base64.b64decode(fields["policy"]))


async def test_a_presigned_upload_is_pinned_to_key_type_and_size(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/uploads", json=VALID_REQUEST, headers=bearer_token("user-42"))

    assert response.status_code == 200, response.text
    body = response.json()
    key: str = body["key"]
    prefix, year, month, unique, filename = key.rsplit("/", 4)
    assert prefix == "uploads/user-42"
    assert (year, month) == (f"{datetime.now(UTC):%Y}", f"{datetime.now(UTC):%m}")
    assert uuid.UUID(unique)
    assert filename == "Summer-launch.png"
    assert body["max_bytes"] == 2048
    assert body["upload_url"].startswith("https://")
    assert body["fields"]["key"] == key
    assert body["fields"]["Content-Type"] == "image/png"

    conditions = decoded_policy(body["fields"])["conditions"]
    assert ["content-length-range", 1, 2048] in conditions
    assert ["eq", "$Content-Type", "image/png"] in conditions
    assert {"bucket": "contentry-test-uploads"} in conditions
    assert {"key": key} in conditions
    expiration = datetime.fromisoformat(decoded_policy(body["fields"])["expiration"].replace("Z", "+00:00"))
    assert 800 < (expiration - datetime.now(UTC)).total_seconds() <= 900


async def test_without_a_cdn_the_download_url_is_a_presigned_s3_url(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/uploads", json=VALID_REQUEST, headers=bearer_token("user-42"))
    download = urlsplit(response.json()["download_url"])
    query = parse_qs(download.query)
    assert download.scheme == "https"
    assert "contentry-test-uploads" in download.netloc + download.path
    assert query["X-Amz-Expires"] == ["3600"]
    assert "X-Amz-Signature" in query


async def test_with_a_cdn_the_download_url_goes_through_it(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    cdn_storage = StorageService(
        create_s3_client(settings),
        bucket=settings.s3_bucket,
        cdn_domain="d111111abcdef8.cloudfront.net",
        upload_expires_seconds=900,
        download_expires_seconds=3600,
    )

    async def storage_behind_cdn() -> StorageService:
        return cdn_storage

    app.dependency_overrides[get_storage] = storage_behind_cdn
    response = await client.post("/api/uploads", json=VALID_REQUEST, headers=bearer_token("user-42"))
    key = response.json()["key"]
    assert response.json()["download_url"] == f"https://d111111abcdef8.cloudfront.net/{key}"


async def test_settings_with_cdn_domain_use_the_cdn(settings: Settings, s3: None) -> None:
    app = create_app(settings.model_copy(update={"cdn_domain": "cdn.contentry.example.com"}))
    async with serve(app) as client:
        response = await client.post("/api/uploads", json=VALID_REQUEST, headers=bearer_token("user-7"))
    assert response.json()["download_url"].startswith("https://cdn.contentry.example.com/uploads/user-7/")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "no token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "another scheme"),
        (bearer_token("user-42", secret="another-secret-" + "z" * 32), "signed with another secret"),
        (bearer_token("user-42", expires_in=-10), "expired"),
        ({"Authorization": f"Bearer {jwt.encode({'sub': 'user-42'}, TEST_JWT_SECRET, algorithm='HS256')}"}, "no exp"),
        (
            {
                "Authorization": "Bearer "
                + jwt.encode({"sub": "../admin", "exp": int(time.time()) + 60}, TEST_JWT_SECRET, algorithm="HS256")
            },
            "subject is not a user id",
        ),
        ({"Authorization": "Bearer not-a-jwt"}, "malformed"),
    ],
)
async def test_uploads_need_a_valid_bearer_token(
    client: httpx.AsyncClient, headers: dict[str, str], reason: str
) -> None:
    response = await client.post("/api/uploads", json=VALID_REQUEST, headers=headers)
    assert response.status_code == 401, reason
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"content_type": "text/html"}, "content_type 'text/html' is not allowed"),
        ({"content_type": "application/x-msdownload"}, "allowed types: image/jpeg"),
        ({"size_bytes": 25 * 1024 * 1024 + 1}, "exceeds the upload limit of 26214400 bytes"),
    ],
)
async def test_uploads_outside_the_policy_are_422_with_a_reason(
    client: httpx.AsyncClient, changes: dict[str, object], message: str
) -> None:
    response = await client.post("/api/uploads", json={**VALID_REQUEST, **changes}, headers=bearer_token("user-42"))
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", next(iter(changes))]
    assert message in error["msg"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"filename": ""}, "filename"),
        ({"filename": "x" * 256}, "filename"),
        ({"size_bytes": 0}, "size_bytes"),
        ({"size_bytes": "big"}, "size_bytes"),
        ({"content_type": "image/png; charset=utf-8"}, "content_type"),
        ({"owner": "someone-else"}, "owner"),
    ],
)
async def test_malformed_upload_requests_are_422_naming_the_field(
    client: httpx.AsyncClient, changes: dict[str, object], field: str
) -> None:
    response = await client.post("/api/uploads", json={**VALID_REQUEST, **changes}, headers=bearer_token("user-42"))
    assert response.status_code == 422
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("photo.jpg", "photo.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report final.pdf", "report-final.pdf"),
        ("Café menü.PNG", "Café-menü.PNG"),
        ("тест файл.png", "тест-файл.png"),
        ("日本語 ファイル.jpg", "日本語-ファイル.jpg"),
        ("e\u0301te\u0301.png", "\u00e9t\u00e9.png"),  # decomposed accents composed (NFC)
        ("\u202egnp.exe", "gnp.exe"),  # a right-to-left override that would display as exe.png
        ("in\u2066voice\u2069\u200b.pdf", "invoice.pdf"),  # bidi isolates, a zero-width space
        ("a\x00b\nc\x7f.png", "abc.png"),  # NUL, a newline, DEL
        ("\ue000x\U000f0000.png", "x.png"),  # private use
        ("..", "file"),
        ("???", "file"),
        ("", "file"),
        ("a" * 300 + ".jpeg", "a" * 123 + ".jpeg"),
    ],
)
def test_safe_filename(given: str, expected: str) -> None:
    assert safe_filename(given) == expected
    assert len(safe_filename(given)) <= 128


@pytest.mark.parametrize("filename", ["../../x", "..\\..\\x", "/etc/../../x", "user-2/../../x"])
async def test_a_path_in_the_file_name_cannot_leave_the_users_prefix(client: httpx.AsyncClient, filename: str) -> None:
    """Through the endpoint, so that skipping the sanitiser in upload_key fails here (issue 13)."""
    response = await client.post(
        "/api/uploads", json={**VALID_REQUEST, "filename": filename}, headers=bearer_token("user-1")
    )
    assert response.status_code == 200, response.text
    key = response.json()["key"]
    parts = key.split("/")
    assert parts[:2] == ["uploads", "user-1"]
    assert len(parts) == 6, f"exactly uploads/<user>/<yyyy>/<mm>/<uuid>/<file>: {key}"
    assert ".." not in parts
    assert parts[-1] == "x"
    assert response.json()["fields"]["key"] == key


async def test_a_unicode_file_name_keeps_its_letters_through_the_endpoint(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/uploads",
        json={**VALID_REQUEST, "filename": "\u202eтест файл.png"},  # noqa: RUF001 - Cyrillic on purpose
        headers=bearer_token("user-1"),
    )
    assert response.json()["key"].endswith("/тест-файл.png")


def test_upload_keys_are_unique_per_upload_and_scoped_to_the_user() -> None:
    now = datetime(2026, 3, 9, tzinfo=UTC)
    first = upload_key("user-1", "a.png", now, uuid.uuid4())
    second = upload_key("user-1", "a.png", now, uuid.uuid4())
    assert first != second
    assert first.startswith("uploads/user-1/2026/03/")


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto as a real HTTP endpoint on loopback, so a browser-style form POST can be made."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


async def test_the_presigned_form_uploads_and_the_download_url_reads_it_back(
    settings: Settings, moto_server: str
) -> None:
    """End to end as a browser would do it. (moto accepts the form without checking the policy; the policy
    itself is checked in test_a_presigned_upload_is_pinned_to_key_type_and_size.)"""
    settings = settings.model_copy(update={"s3_endpoint_url": moto_server})
    Session().client("s3", region_name=settings.aws_region, endpoint_url=moto_server).create_bucket(
        Bucket=settings.s3_bucket, CreateBucketConfiguration={"LocationConstraint": settings.aws_region}
    )
    content = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    async with serve(create_app(settings)) as client:
        response = await client.post(
            "/api/uploads",
            json={"filename": "logo.png", "content_type": "image/png", "size_bytes": len(content)},
            headers=bearer_token("user-9"),
        )
    upload = response.json()
    async with httpx.AsyncClient() as browser:
        posted = await browser.post(
            upload["upload_url"], data=upload["fields"], files={"file": ("logo.png", content, "image/png")}
        )
        fetched = await browser.get(upload["download_url"])
    assert posted.status_code == 204
    assert fetched.status_code == 200
    assert fetched.content == content
    assert fetched.headers["content-type"] == "image/png"


class CountingBody:
    """A request body that counts how much of it was read."""

    def __init__(self, chunks: int, chunk: bytes = b"x" * 65_536) -> None:
        self.chunks = chunks
        self.chunk = chunk
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.read += 1
            yield self.chunk


async def test_without_credentials_the_body_is_not_read(client: httpx.AsyncClient) -> None:
    body = CountingBody(chunks=3, chunk=b"{")
    response = await client.post(
        "/api/uploads", content=body, headers={"Content-Type": "application/json", "Content-Length": "3"}
    )
    assert response.status_code == 401
    assert body.read <= 1, "authentication comes before the body is parsed (at most the first chunk is buffered)"
    assert response.headers["connection"] == "close", "the unread rest is dropped with the connection"


async def test_a_declared_length_over_the_limit_is_413_before_reading(client: httpx.AsyncClient) -> None:
    body = CountingBody(chunks=3)
    headers = {**bearer_token("user-1"), "Content-Type": "application/json", "Content-Length": str(10 * 1024**3)}
    response = await client.post("/api/uploads", content=body, headers=headers)
    assert response.status_code == 413
    assert response.json()["detail"] == "The request body is larger than this route's limit of 16384 bytes."
    assert body.read == 0
    assert response.headers["connection"] == "close"


async def test_a_chunked_body_is_cut_at_the_limit(client: httpx.AsyncClient) -> None:
    body = CountingBody(chunks=1000)  # 64 MiB if it were all read
    headers = {**bearer_token("user-1"), "Content-Type": "application/json"}
    response = await client.post("/api/uploads", content=body, headers=headers)  # no length: chunked
    assert response.status_code == 413
    assert body.read <= 2, "reading stops at the first chunk past the limit"


async def test_a_body_on_a_route_that_takes_none_is_413(client: httpx.AsyncClient) -> None:
    response = await client.request("GET", "/api/health", content=b"x" * 10)
    assert response.status_code == 413
    assert response.json()["detail"] == "This route takes no request body."


async def test_the_body_limit_is_a_setting(settings: Settings, s3: None) -> None:
    app = create_app(settings.model_copy(update={"json_body_max_bytes": 1024}))
    filename = "a" * 250 + ".png"
    padded = json.dumps({**VALID_REQUEST, "filename": filename}) + " " * 1000
    async with serve(app) as client:
        response = await client.post(
            "/api/uploads", content=padded, headers={**bearer_token("u"), "Content-Type": "application/json"}
        )
    assert response.status_code == 413
    assert "1024 bytes" in response.json()["detail"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"filename": "\xff\xfe.png", "content_type": "image/png", "size_bytes": 10}',  # not UTF-8
        b'{"filename": "a.png", "content_type": "image/png", "size_bytes": 10',  # cut short
        b"",
        b"[]",
    ],
)
async def test_every_malformed_body_is_the_same_422(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.post(
        "/api/uploads", content=raw, headers={**bearer_token("user-1"), "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][0] == "body"
    assert error["msg"]
    assert "input" not in error or error["input"] == [], "raw bytes are never echoed"


async def test_a_body_that_is_not_json_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/uploads", content=b"filename=a.png", headers={**bearer_token("user-1"), "Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


async def test_the_schema_states_the_allowed_types_and_the_size_limit(settings: Settings, s3: None) -> None:
    custom = settings.model_copy(update={"upload_allowed_content_types": ["image/png"], "upload_max_bytes": 1000})
    async with serve(create_app(custom)) as client:
        schema = (await client.get("/openapi.json")).json()
    upload = schema["components"]["schemas"]["UploadRequest"]["properties"]
    assert upload["content_type"]["enum"] == ["image/png"]
    assert upload["size_bytes"]["maximum"] == 1000
    assert upload["size_bytes"]["exclusiveMinimum"] == 0
    operation = schema["paths"]["/api/uploads"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/UploadRequest"
    }
    assert set(operation["responses"]) >= {"200", "401", "413", "415", "422"}
    assert operation["security"] == [{"HTTPBearer": []}]
