"""CloudFront signed download URLs: a URL the app signs verifies with the public key CloudFront holds, covers
exactly that file, and expires after download_url_expires_seconds. Verified here as CloudFront does it (the
canned policy of the developer guide, RSA-SHA1, CloudFront's URL-safe base64), independently of botocore."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi import FastAPI
from pydantic import SecretStr, ValidationError

from app.api.deps import get_storage
from app.core.config import Settings
from app.main import create_app
from app.services.storage import CdnUrlSigner, StorageService, create_cdn_signer, create_s3_client
from tests.app.support import bearer_token, serve

pytestmark = pytest.mark.anyio

CDN = "d111111abcdef8.cloudfront.net"
KEY_ID = "K2JCJMDEHXQW5F"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
REQUEST = {"filename": "Summer launch.png", "content_type": "image/png", "size_bytes": 2048}


@pytest.fixture(scope="module")
def key_pair() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_of(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def edge_accepts(url: str, public_key: rsa.RSAPublicKey, key_id: str, at: datetime) -> bool:
    """What CloudFront does with a canned-policy signed URL: rebuild the policy for the URL without its signing
    parameters, check the signature with the key pair's public key, then the expiry."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if query.get("Key-Pair-Id") != [key_id]:
        return False
    expires = int(query["Expires"][0])
    resource = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    policy = json.dumps(
        {"Statement": [{"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}]},
        separators=(",", ":"),
    )
    signature = base64.b64decode(query["Signature"][0].translate(str.maketrans("-_~", "+=/")))
    try:
        public_key.verify(signature, policy.encode(), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - CloudFront's
    except InvalidSignature:
        return False
    return at.timestamp() < expires


def signer(key: rsa.RSAPrivateKey, at: datetime = NOW) -> CdnUrlSigner:
    return CdnUrlSigner(KEY_ID, pem_of(key), clock=lambda: at)


def storage(key: rsa.RSAPrivateKey, settings: Settings, ttl: int = 3600) -> StorageService:
    return StorageService(
        create_s3_client(settings),
        bucket=settings.s3_bucket,
        cdn_domain=CDN,
        upload_expires_seconds=900,
        download_expires_seconds=ttl,
        cdn_signer=signer(key),
    )


@pytest.mark.parametrize("ttl", [60, 3600, 7 * 86_400])
async def test_a_signed_url_verifies_with_the_public_key_and_expires_after_its_ttl(
    key_pair: rsa.RSAPrivateKey, ttl: int
) -> None:
    settings = Settings(download_url_expires_seconds=ttl)
    url = await storage(key_pair, settings, ttl).download_url("uploads/user-7/2026/11/abc/Summer-launch.png")
    public = key_pair.public_key()
    assert url.startswith(f"https://{CDN}/uploads/user-7/2026/11/abc/Summer-launch.png?")
    assert int(parse_qs(urlsplit(url).query)["Expires"][0]) == int(NOW.timestamp()) + ttl
    assert edge_accepts(url, public, KEY_ID, at=NOW)
    assert edge_accepts(url, public, KEY_ID, at=datetime.fromtimestamp(NOW.timestamp() + ttl - 1, UTC))
    assert not edge_accepts(url, public, KEY_ID, at=datetime.fromtimestamp(NOW.timestamp() + ttl, UTC)), "never expires"


async def test_a_signed_url_covers_only_its_file_and_only_this_key(key_pair: rsa.RSAPrivateKey) -> None:
    url = signer(key_pair).sign(f"https://{CDN}/uploads/user-7/a.png", 3600)
    public = key_pair.public_key()
    assert edge_accepts(url, public, KEY_ID, at=NOW)
    assert not edge_accepts(url.replace("/a.png", "/b.png"), public, KEY_ID, at=NOW), "reused for another file"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    assert not edge_accepts(url, other, KEY_ID, at=NOW), "verified by a key CloudFront does not trust"


async def test_the_upload_endpoint_hands_out_signed_cdn_urls(
    key_pair: rsa.RSAPrivateKey, app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    behind_cdn = storage(key_pair, settings)

    async def storage_behind_cdn() -> StorageService:
        return behind_cdn

    app.dependency_overrides[get_storage] = storage_behind_cdn
    response = await client.post("/api/uploads", json=REQUEST, headers=bearer_token("user-42"))
    assert response.status_code == 200, response.text
    url = response.json()["download_url"]
    assert url.startswith(f"https://{CDN}/{response.json()['key']}?")
    assert edge_accepts(url, key_pair.public_key(), KEY_ID, at=NOW)


async def test_the_app_signs_with_the_key_from_its_settings(
    key_pair: rsa.RSAPrivateKey, settings: Settings, s3: None
) -> None:
    """The infrastructure's form: base64 of the PEM, on one line, beside the key id."""
    configured = Settings.model_validate(
        settings.model_dump()
        | {
            "cdn_domain": CDN,
            "cdn_signing_key_id": KEY_ID,
            "cdn_signing_private_key": base64.b64encode(pem_of(key_pair)).decode(),
        }
    )
    async with serve(create_app(configured)) as client:
        response = await client.post("/api/uploads", json=REQUEST, headers=bearer_token("user-7"))
    url = response.json()["download_url"]
    now = datetime.now(UTC)
    assert edge_accepts(url, key_pair.public_key(), KEY_ID, at=now)
    expires = int(parse_qs(urlsplit(url).query)["Expires"][0])
    assert now.timestamp() < expires <= now.timestamp() + configured.download_url_expires_seconds + 1


def test_without_a_signing_key_there_is_no_signer() -> None:
    assert create_cdn_signer(Settings()) is None


def test_the_key_is_read_as_pem_or_base64_of_pem(key_pair: rsa.RSAPrivateKey) -> None:
    pem = pem_of(key_pair)
    for given in (pem.decode(), base64.b64encode(pem).decode()):
        settings = Settings(cdn_signing_key_id=KEY_ID, cdn_signing_private_key=SecretStr(given))
        assert settings.cdn_signing_private_key_pem == pem
        assert create_cdn_signer(settings) is not None


@pytest.mark.parametrize(
    ("environment", "says"),
    [
        ({"CDN_SIGNING_KEY_ID": KEY_ID}, "go together"),
        ({"CDN_SIGNING_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----"}, "go together"),
        ({"CDN_SIGNING_KEY_ID": KEY_ID, "CDN_SIGNING_PRIVATE_KEY": "bm90IGEga2V5"}, "must be a PEM private key"),
    ],
)
def test_an_incomplete_or_malformed_key_is_refused_without_echoing_it(
    environment: dict[str, str], says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert says in str(caught.value)
    assert "bm90IGEga2V5" not in str(caught.value)


def test_production_with_a_cdn_needs_the_signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "APP_ENV": "production",
        "MONGO_URL": "mongodb://db:27017/contentry",
        "REDIS_URL": "rediss://cache:6379/0",
        "S3_BUCKET": "contentry-prod-uploads",
        "JWT_SECRET": "j" * 64,
        "HEALTH_DETAILED_TOKEN": "h" * 64,
        "CDN_DOMAIN": CDN,
    }.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="the CDN serves signed URLs only"):
        Settings()


def test_an_rsa_key_is_required(key_pair: rsa.RSAPrivateKey) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="must be an RSA private key"):
        CdnUrlSigner(KEY_ID, ec_pem)
