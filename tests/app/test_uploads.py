"""POST /api/uploads and the S3 storage service (moto)."""

import base64
import json
import time
import uuid
from collections.abc import Iterator
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
    assert message in response.json()["detail"]


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
        ("Café menü.PNG", "Cafe-menu.PNG"),
        ("???", "file"),
        ("", "file"),
        ("a" * 300 + ".jpeg", "a" * 123 + ".jpeg"),
    ],
)
def test_safe_filename(given: str, expected: str) -> None:
    assert safe_filename(given) == expected
    assert len(safe_filename(given)) <= 128


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
