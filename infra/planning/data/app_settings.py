"""The app's runtime settings document: the JSON object stored in its Secrets Manager secret.

The compute side turns each key into an environment variable of the container; `app/core/config.py` reads
them (case-insensitively). Non-secret settings the compute side knows itself (APP_ENV, AWS_REGION,
APP_RELEASE) are not in here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

SECRET_KEYS = ("MONGO_URL", "REDIS_URL", "JWT_SECRET", "HEALTH_DETAILED_TOKEN", "S3_BUCKET")
CDN_KEY = "CDN_DOMAIN"
CORS_KEY = "CORS_ORIGINS"


def app_settings_document(
    *,
    mongo_url: str,
    redis_url: str,
    jwt_secret: str,
    health_detailed_token: str,
    s3_bucket: str,
    cdn_domain: str | None,
    cors_origins: Sequence[str] = (),
) -> str:
    """Exactly the keys the app expects; CDN_DOMAIN only when a CDN serves the bucket; CORS_ORIGINS (comma-separated,
    as the app reads it) only when some browser origin is allowed."""
    values = {
        "MONGO_URL": mongo_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": jwt_secret,
        "HEALTH_DETAILED_TOKEN": health_detailed_token,
        "S3_BUCKET": s3_bucket,
    }
    empty = sorted(key for key, value in values.items() if not value)
    if empty:
        raise ValueError(f"app settings without a value: {', '.join(empty)}")
    if cdn_domain:
        values[CDN_KEY] = cdn_domain
    if cors_origins:
        values[CORS_KEY] = ",".join(cors_origins)
    return json.dumps(values, sort_keys=True)
