"""The client's address from X-Forwarded-For, taken from the right as the ALB appends it, never from the left."""

import pytest
from starlette.types import Message, Scope

from app.core.client_address import (
    LONGEST_ADDRESS_TEXT,
    ClientAddressMiddleware,
    canonical_address,
    client_key,
    forwarded_client,
    parse_address,
)

pytestmark = pytest.mark.anyio

ALB_APPENDED = "203.0.113.7"


@pytest.mark.parametrize(
    ("header", "hops", "expected"),
    [
        # What the ALB sends when the client sent nothing: the one address it saw.
        ([ALB_APPENDED], 1, ALB_APPENDED),
        # A client's own header comes first; the ALB's entry is the last: the forged ones are ignored.
        ([f"10.0.0.1, 1.2.3.4, {ALB_APPENDED}"], 1, ALB_APPENDED),
        (["127.0.0.1", ALB_APPENDED], 1, ALB_APPENDED),  # two header lines read as one list, in order
        # Behind a CDN and then the ALB: two trusted proxies, the client is second from the right.
        ([f"6.6.6.6, {ALB_APPENDED}, 130.176.0.10"], 2, ALB_APPENDED),
        ([ALB_APPENDED], 2, None),  # fewer entries than trusted proxies: not through them all, keep the peer
        ([ALB_APPENDED], 0, None),  # no proxy trusted: the header means nothing
        (["1.2.3.4, not-an-address"], 1, None),
        (["2001:db8::1"], 1, "2001:db8::1"),
        (["[2001:db8::1]:443"], 1, "2001:db8::1"),
        (["203.0.113.7:51234"], 1, ALB_APPENDED),  # with the ALB's client-port option on
        (["::ffff:203.0.113.7"], 1, ALB_APPENDED),
    ],
)
def test_the_client_is_the_nth_entry_from_the_right(header: list[str], hops: int, expected: str | None) -> None:
    assert forwarded_client(header, hops) == expected


def test_a_returning_client_is_parsed_once_and_no_long_entry_is_kept() -> None:
    canonical_address.cache_clear()
    for _ in range(3):
        assert forwarded_client([f"6.6.6.6, {ALB_APPENDED}"], 1) == ALB_APPENDED
    assert canonical_address.cache_info().hits == 2
    # No address is longer than this; such an entry is refused before the cache, so it can never fill memory.
    overlong = "1" * (LONGEST_ADDRESS_TEXT + 1)
    assert forwarded_client([f"{ALB_APPENDED}, {overlong}"], 1) is None
    longest = "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535"
    assert forwarded_client([longest], 1) == "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"  # the longest is kept
    assert canonical_address.cache_info().currsize == 2


def test_an_ipv6_client_is_counted_by_its_64() -> None:
    # One subscriber gets a /64 and may use any address in it: counting addresses would let it rotate freely.
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key(ALB_APPENDED) == ALB_APPENDED
    assert parse_address("garbage") is None


async def seen_by_app(headers: list[tuple[bytes, bytes]], hops: int) -> Scope:
    seen: dict[str, Scope] = {}

    async def app(scope: Scope, receive: object, send: object) -> None:
        seen["scope"] = scope

    scope: Scope = {"type": "http", "headers": headers, "client": ("10.0.1.23", 40000), "scheme": "http"}

    async def receive() -> Message:
        return {"type": "http.request"}

    async def send(message: Message) -> None:
        return None

    await ClientAddressMiddleware(app, trusted_hops=hops)(scope, receive, send)
    return seen["scope"]


async def test_the_middleware_puts_the_forwarded_client_and_scheme_in_the_scope() -> None:
    scope = await seen_by_app(
        [(b"x-forwarded-for", f"9.9.9.9, {ALB_APPENDED}".encode()), (b"x-forwarded-proto", b"https")], hops=1
    )
    assert scope["client"] == (ALB_APPENDED, 0)
    assert scope["scheme"] == "https"


async def test_without_a_header_the_peer_stays_the_client() -> None:
    # The ALB's health checks and the kubelet's probes come without X-Forwarded-For.
    scope = await seen_by_app([], hops=1)
    assert scope["client"] == ("10.0.1.23", 40000)
    assert scope["scheme"] == "http"


async def test_with_no_trusted_proxy_the_headers_are_ignored() -> None:
    scope = await seen_by_app([(b"x-forwarded-for", b"9.9.9.9"), (b"x-forwarded-proto", b"https")], hops=0)
    assert scope["client"] == ("10.0.1.23", 40000)
    assert scope["scheme"] == "http"
