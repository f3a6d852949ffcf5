"""The client's address, as the load balancer saw it, never as the client claims it.

The ALB appends the address that connected to it as the LAST entry of X-Forwarded-For (its default `append`
mode: "If the X-Forwarded-For header is already present, the load balancer appends the client IP address to
it", docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html); whatever a client
sent itself comes before. With N trusted proxies in front of the app, each appending what connected to it, the
client is the Nth entry from the right (TRUSTED_PROXY_HOPS, 1 behind the ALB). On tier B the ALB sends to the pod
IPs directly (IP targets registered by the TargetGroupBinding, no kube-proxy hop in between), so the count is the
same 1; the kubelet's probes and the ALB's health checks come with no header and keep their peer address.

uvicorn's own handling is turned off (app/worker.py): with FORWARDED_ALLOW_IPS=* it took the LEFTMOST entry,
which the client writes, so any client could choose the address the access log and the rate limiter saw.

Plain ASGI middleware, outermost: the access line, the rate limiter and everything else read `scope["client"]`.
"""

import functools
import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send

_FORWARDED_FOR = b"x-forwarded-for"
_FORWARDED_PROTO = b"x-forwarded-proto"
_SCHEMES = frozenset({"http", "https"})
IPV6_CLIENT_PREFIX = 64
"""One IPv6 subscriber gets a /64 (or more) and can use any address in it: the rate limiter counts per /64."""


def parse_address(entry: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """One X-Forwarded-For entry: an IPv4 or IPv6 address, optionally with a port (`1.2.3.4:5`, `[::1]:5`, which
    the ALB writes only with `enable_xff_client_port`); None when it is not an address."""
    text = entry.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def forwarded_client(forwarded_for: list[str], trusted_hops: int) -> str | None:
    """The address `trusted_hops` proxies vouch for: the Nth X-Forwarded-For entry from the right. None when no
    proxy is trusted, when the header holds fewer entries than trusted proxies (the request did not come through
    them all) or when that entry is not an address: the caller then keeps the connection's peer."""
    if trusted_hops < 1:
        return None
    entries = [item for value in forwarded_for for item in value.split(",")]
    if len(entries) < trusted_hops:
        return None
    entry = entries[-trusted_hops].strip()
    if len(entry) > LONGEST_ADDRESS_TEXT:
        return None  # no address is this long; and the cache below never holds a long string
    return canonical_address(entry)


LONGEST_ADDRESS_TEXT = len("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535")
ADDRESS_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=ADDRESS_CACHE_SIZE)
def canonical_address(entry: str) -> str | None:
    """parse_address as text, remembered: every request behind the ALB carries X-Forwarded-For, the same
    clients come back again and again, and ipaddress took about 3 us per request to parse and print the same
    address (a tenth of the app's own CPU on a proxied /api/health). The entry is the one the trusted proxy
    wrote, and the cache is bounded in entries and (by forwarded_client) in their length: a client with many
    addresses costs one parse each, as before, never memory."""
    address = parse_address(entry)
    return str(address) if address is not None else None


def client_key(host: str) -> str:
    """What one client is counted as: its IPv4 address, or its IPv6 /64."""
    address = parse_address(host)
    if address is None:
        return host[:64]  # a test client's name, a Unix socket: not an address, counted as itself
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


class ClientAddressMiddleware:
    """Sets `scope["client"]` to the forwarded client address (and `scope["scheme"]` to X-Forwarded-Proto) when
    `trusted_hops` proxies are in front. With 0 it does nothing: the peer is the client."""

    def __init__(self, app: ASGIApp, *, trusted_hops: int) -> None:
        self.app = app
        self.trusted_hops = trusted_hops

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.trusted_hops:
            forwarded_for: list[str] = []
            proto: str | None = None
            for name, value in scope["headers"]:
                if name == _FORWARDED_FOR:
                    forwarded_for.append(value.decode("latin-1"))
                elif name == _FORWARDED_PROTO:
                    proto = value.decode("latin-1").rsplit(",", 1)[-1].strip().lower()
            if forwarded_for:
                client = forwarded_client(forwarded_for, self.trusted_hops)
                if client is not None:
                    scope["client"] = (client, 0)
            if proto in _SCHEMES:
                scope["scheme"] = proto
        await self.app(scope, receive, send)
