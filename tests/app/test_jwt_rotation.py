"""JWT keys by key id, and a rotation end to end: what the app accepts before, during and after one.

The settings are the ones the infrastructure writes at each key generation (infra/planning/data/jwt_keys.py):
at generation N the keys of N-1 (previous), N (current: new tokens are signed with it) and N+1 (next).
"""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from pydantic import SecretStr

from app.core.config import Settings
from app.core.security import InvalidTokenError, JwtKeyring, authenticate
from app.main import create_app
from tests.app.support import bearer_token, health_token_header, serve

pytestmark = pytest.mark.anyio

UPLOAD = {"filename": "a.png", "content_type": "image/png", "size_bytes": 10}
KEYS = {generation: f"generation-{generation}-key-" + str(generation) * 50 for generation in range(1, 6)}


def kid(generation: int) -> str:
    return f"gen-{generation}"


def at_generation(settings: Settings, generation: int) -> Settings:
    """The app's settings once the stack runs `jwtKeyGeneration=generation`."""
    held = [g for g in (generation - 1, generation, generation + 1) if g >= 1]
    return settings.model_copy(
        update={"jwt_keys": {kid(g): SecretStr(KEYS[g]) for g in held}, "jwt_current_kid": kid(generation)}
    )


def token_of(generation: int, user: str = "user-1") -> dict[str, str]:
    return bearer_token(user, secret=KEYS[generation], kid=kid(generation))


def keyring(generation: int) -> JwtKeyring:
    held = [g for g in (generation - 1, generation, generation + 1) if g >= 1]
    return JwtKeyring({kid(g): SecretStr(KEYS[g]) for g in held}, current_kid=kid(generation), algorithm="HS256")


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "user-1", "exp": int(time.time()) + 300, **extra}


def with_raw_header(header: dict[str, Any]) -> str:
    """A token whose header PyJWT would refuse to write (a number as kid), signed with generation 2's key."""

    def segment(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = segment(json.dumps(header).encode()) + b"." + segment(json.dumps(claims()).encode())
    signature = hmac.new(KEYS[2].encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + segment(signature)).decode()


def test_the_app_signs_with_the_current_key_and_names_it() -> None:
    token = keyring(2).sign(claims())
    assert jwt.get_unverified_header(token)["kid"] == "gen-2"
    assert jwt.decode(token, KEYS[2], algorithms=["HS256"])["sub"] == "user-1"


def test_a_token_is_verified_with_the_key_its_kid_names() -> None:
    ring = keyring(2)
    assert authenticate(ring.sign(claims()), ring).user_id == "user-1"
    # Signed with generation 1's key but claiming generation 2's id: the signature does not check out.
    forged = jwt.encode(claims(), KEYS[1], algorithm="HS256", headers={"kid": "gen-2"})
    with pytest.raises(InvalidTokenError, match="InvalidSignatureError"):
        ring.verify(forged)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (jwt.encode(claims(), KEYS[2], algorithm="HS256"), "names no key"),
        (jwt.encode(claims(), KEYS[2], algorithm="HS256", headers={"kid": "gen-9"}), "does not hold"),
        (with_raw_header({"alg": "HS256", "typ": "JWT", "kid": 2}), "InvalidTokenError"),
        (jwt.encode(claims(), KEYS[2], algorithm="HS512", headers={"kid": "gen-2"}), "InvalidAlgorithmError"),
        (jwt.encode(claims(), "", algorithm="none", headers={"kid": "gen-2"}), "InvalidAlgorithmError"),
        ("not-a-jwt", "DecodeError"),
    ],
)
def test_a_token_that_names_no_key_it_holds_or_picks_its_algorithm_is_refused(token: str, reason: str) -> None:
    with pytest.raises(InvalidTokenError, match=reason):
        keyring(2).verify(token)


def test_an_unknown_kid_is_not_echoed_into_the_logs() -> None:
    hostile = "x" * 30 + "\nlevel=CRITICAL fake log line"
    token = jwt.encode(claims(), KEYS[2], algorithm="HS256", headers={"kid": hostile})
    with pytest.raises(InvalidTokenError) as failure:
        keyring(2).verify(token)
    assert hostile not in str(failure.value)


async def status_of(settings: Settings, headers: dict[str, str]) -> int:
    async with serve(create_app(settings)) as client:
        return (await client.post("/api/uploads", json=UPLOAD, headers=headers)).status_code


async def test_a_rotation_keeps_the_previous_key_and_drops_the_one_before(settings: Settings, s3: None) -> None:
    before, after = at_generation(settings, 2), at_generation(settings, 3)
    # Before the rotation: tokens of generation 2 (current) and of generation 1 (previous) work.
    assert await status_of(before, token_of(2)) == 200
    assert await status_of(before, token_of(1)) == 200
    # After it: generation 3 signs; a token signed before the rotation (generation 2) still works...
    assert await status_of(after, token_of(3)) == 200
    assert await status_of(after, token_of(2)) == 200
    # ... and one older than the previous key is refused.
    assert await status_of(after, token_of(1)) == 401
    # A second rotation: generation 2's tokens have had one whole rotation to be replaced.
    assert await status_of(at_generation(settings, 4), token_of(2)) == 401


async def test_during_the_rollout_an_instance_not_yet_rotated_accepts_the_new_key(settings: Settings, s3: None) -> None:
    """The new key was already the next one: a token a rolled instance signs works on one still running the old
    settings, so the rollout logs no one out (with only two keys held, this would be a 401)."""
    new_instance, old_instance = keyring(3), at_generation(settings, 2)
    token = new_instance.sign(claims(sub="user-7"))
    assert await status_of(old_instance, {"Authorization": f"Bearer {token}"}) == 200


async def test_a_token_without_a_kid_is_refused_by_the_app(settings: Settings, s3: None) -> None:
    assert await status_of(at_generation(settings, 2), bearer_token("user-1", secret=KEYS[2], kid=None)) == 401


async def test_detailed_names_the_key_ids_and_never_a_key(settings: Settings, s3: None) -> None:
    async with serve(create_app(at_generation(settings, 3))) as client:
        body = (await client.get("/api/health/detailed", headers=health_token_header())).json()
    assert body["jwt"] == {"current_kid": "gen-3", "accepted_kids": ["gen-2", "gen-3", "gen-4"]}
    rendered = json.dumps(body)
    assert not any(key in rendered for key in KEYS.values())


async def test_the_keys_never_reach_the_startup_log(
    settings: Settings, s3: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("DEBUG"):
        async with serve(create_app(at_generation(settings, 3))) as client:
            await client.post("/api/uploads", json=UPLOAD, headers=token_of(1))  # refused, and logged as such
    started = [record for record in caplog.records if record.getMessage() == "started"]
    assert started
    assert started[0].__dict__["jwt_kids"] == ["gen-2", "gen-3", "gen-4"]
    rendered = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert not any(key in rendered for key in KEYS.values())


async def test_a_new_instance_and_an_old_one_agree_on_users(settings: Settings, s3: None) -> None:
    # The same person on both sides of the rotation: the subject is what counts, not the key.
    async with serve(create_app(at_generation(settings, 3))) as client:
        response = await client.post("/api/uploads", json=UPLOAD, headers=token_of(2, user="user-42"))
    assert response.status_code == 200
    assert response.json()["key"].startswith("uploads/user-42/")
