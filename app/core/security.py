"""Bearer-token authentication: JWTs signed with one of several keys, each named by a key id (`kid`).

The keys rotate (README: "Rotating the JWT keys"): the app signs with the current key and verifies a token with
the key its header's `kid` names, among every key it holds. The infrastructure hands it the previous, the current
and the next generation's keys, so a token signed before a rotation still works after it, one older than the
previous key is refused, and during a rollout an instance that already signs with the new key is understood by
one that does not yet (it held that key as the next one).

A token must name its key: a token without a `kid`, or with one the app does not hold, is refused before any
signature is checked. The algorithm is fixed by the settings, never read from the token.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from pydantic import SecretStr

from app.schemas.common import USER_ID_RE


class InvalidTokenError(Exception):
    """The token is missing a claim, expired, badly signed, malformed, or names no key the app holds. The reason
    is for logs only (it never contains the token or a key)."""


@dataclass(frozen=True)
class AuthenticatedUser:
    user_id: str


class JwtKeyring:
    """The keys a token may be signed with, by key id, and the one new tokens are signed with."""

    def __init__(self, keys: Mapping[str, SecretStr], *, current_kid: str, algorithm: str) -> None:
        if current_kid not in keys:
            raise ValueError(f"the current key id {current_kid!r} is not among the keys ({', '.join(sorted(keys))})")
        self._keys = dict(keys)
        self.current_kid = current_kid
        self.algorithm = algorithm

    @property
    def kids(self) -> tuple[str, ...]:
        """Every key id accepted, sorted: not secret (every token carries its kid in the clear)."""
        return tuple(sorted(self._keys))

    def sign(self, claims: Mapping[str, Any]) -> str:
        """A token for `claims`, signed with the current key and naming it in its header."""
        key = self._keys[self.current_kid].get_secret_value()
        return jwt.encode(dict(claims), key, algorithm=self.algorithm, headers={"kid": self.current_kid})

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, once its kid names a key held here, its signature checks out with that key and it
        has not expired (`exp` and `sub` are required)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(type(exc).__name__) from exc
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidTokenError("the token names no key (no kid in its header)")
        key = self._keys.get(kid)
        if key is None:
            # The kid is attacker-controlled text: log its length, not the text.
            raise InvalidTokenError(f"the token names a key this app does not hold (a kid of {len(kid)} characters)")
        try:
            return jwt.decode(
                token,
                key.get_secret_value(),
                algorithms=[self.algorithm],  # exactly one: never let the token choose its own algorithm
                options={"require": ["exp", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(type(exc).__name__) from exc


def authenticate(token: str, keyring: JwtKeyring) -> AuthenticatedUser:
    """Verify the token and return the user it was issued to (its `sub`)."""
    claims = keyring.verify(token)
    subject = claims["sub"]
    if not isinstance(subject, str) or not USER_ID_RE.match(subject):
        raise InvalidTokenError("subject is not a user id")
    return AuthenticatedUser(user_id=subject)
