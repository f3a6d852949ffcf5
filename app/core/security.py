"""Bearer-token authentication: HS256 JWTs signed with JWT_SECRET (the tokens Contentry's auth issues)."""

from dataclasses import dataclass

import jwt
from pydantic import SecretStr

from app.schemas.common import USER_ID_RE


class InvalidTokenError(Exception):
    """The token is missing a claim, expired, badly signed or malformed. The reason is for logs only."""


@dataclass(frozen=True)
class AuthenticatedUser:
    user_id: str


def authenticate(token: str, *, secret: SecretStr, algorithm: str) -> AuthenticatedUser:
    """Verify signature and expiry and return the user the token was issued to (its `sub`)."""
    try:
        claims = jwt.decode(
            token,
            secret.get_secret_value(),
            algorithms=[algorithm],  # exactly one: never let the token choose its own algorithm
            options={"require": ["exp", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(type(exc).__name__) from exc
    subject = claims["sub"]
    if not isinstance(subject, str) or not USER_ID_RE.match(subject):
        raise InvalidTokenError("subject is not a user id")
    return AuthenticatedUser(user_id=subject)
