"""The app's runtime settings document: the JSON object stored in its Secrets Manager secret.

The compute side turns each key into an environment variable of the container; `app/core/config.py` reads
them (case-insensitively). Non-secret settings the compute side knows itself (APP_ENV, AWS_REGION,
APP_RELEASE) are not in here.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence

from infra.planning.data.jwt_keys import jwt_settings

LEGACY_JWT_SECRET_KEY = "JWT_SECRET"  # noqa: S105 - a variable's name, not a credential
"""The current key again, under the name app images from before key rotation read (they ignore JWT_KEYS): an
instance refresh that rolls back to such an image, or a restarted pod of one, boots with today's secret and must
still find its key. Drop it once no image older than JWT_KEYS can run."""
SECRET_KEYS = (
    "MONGO_URL",
    "REDIS_URL",
    "JWT_KEYS",
    "JWT_CURRENT_KID",
    LEGACY_JWT_SECRET_KEY,
    "HEALTH_DETAILED_TOKEN",
    "S3_BUCKET",
)
CDN_KEY = "CDN_DOMAIN"
CORS_KEY = "CORS_ORIGINS"
# With a CDN: the key pair the app signs download URLs with. The private key travels base64-encoded, on one line,
# because the instance turns each key of the secret into one line of a docker env file.
CDN_SIGNING_KEYS = ("CDN_SIGNING_KEY_ID", "CDN_SIGNING_PRIVATE_KEY")


def app_settings_document(
    *,
    mongo_url: str,
    redis_url: str,
    jwt_keys: Mapping[int, str],
    jwt_key_generation: int,
    health_detailed_token: str,
    s3_bucket: str,
    cdn_domain: str | None,
    cors_origins: Sequence[str] = (),
    cdn_signing_key_id: str | None = None,
    cdn_signing_private_key_pem: str | None = None,
) -> str:
    """Exactly the keys the app expects: JWT_KEYS and JWT_CURRENT_KID from the keys of each generation the app
    holds at `jwt_key_generation` (infra/planning/data/jwt_keys.py), CDN_DOMAIN and the signing key pair only when
    a CDN serves the bucket, CORS_ORIGINS (comma-separated, as the app reads it) only when some browser origin is
    allowed."""
    values = {
        "MONGO_URL": mongo_url,
        "REDIS_URL": redis_url,
        **jwt_settings(jwt_keys, generation=jwt_key_generation),
        LEGACY_JWT_SECRET_KEY: jwt_keys.get(jwt_key_generation, ""),
        "HEALTH_DETAILED_TOKEN": health_detailed_token,
        "S3_BUCKET": s3_bucket,
    }
    empty = sorted(key for key, value in values.items() if not value)
    if empty:
        raise ValueError(f"app settings without a value: {', '.join(empty)}")
    if cdn_domain:
        values[CDN_KEY] = cdn_domain
        if not (cdn_signing_key_id and cdn_signing_private_key_pem):
            raise ValueError("a CDN serves signed URLs only: CDN_SIGNING_KEY_ID and its private key are required")
        key_id, private_key = CDN_SIGNING_KEYS
        values[key_id] = cdn_signing_key_id
        values[private_key] = base64.b64encode(cdn_signing_private_key_pem.encode("ascii")).decode("ascii")
    if cors_origins:
        values[CORS_KEY] = ",".join(cors_origins)
    return json.dumps(values, sort_keys=True)


def settings_digest(document: str) -> str:
    """SHA-256 of the settings document, hex: put where a change must roll the app (the launch template's user
    data, the pod template), so a changed secret reaches every instance. It reveals nothing: the document holds
    64-character generated keys, so no part of it can be guessed from the digest."""
    return hashlib.sha256(document.encode()).hexdigest()
