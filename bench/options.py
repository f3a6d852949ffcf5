"""Command-line checks of the load test: plain Python, no locust, so they are testable alone."""

import argparse
import ipaddress
import socket
from urllib.parse import urlsplit


def require_loopback(target: str) -> None:
    """Refuse to load anything but this machine unless the operator says the target is theirs."""
    host = urlsplit(target).hostname
    if host is None:
        raise SystemExit(f"--target {target!r} has no host")
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as exc:
        raise SystemExit(f"--target host {host!r} does not resolve: {exc}") from exc
    if not all(ipaddress.ip_address(address.split("%")[0]).is_loopback for address in addresses):
        raise SystemExit(
            f"--target {target} resolves to {sorted(addresses)}, not loopback; "
            "pass --allow-remote to load a deployment you operate (a test ALB, never someone else's system)"
        )


def parse_think_time(raw: str) -> tuple[float, float]:
    low, _, high = raw.partition(":")
    try:
        bounds = (float(low), float(high or low))
    except ValueError as exc:
        raise argparse.ArgumentTypeError("--think-time is MIN:MAX seconds, e.g. 0.5:1.5") from exc
    if not 0 <= bounds[0] <= bounds[1]:
        raise argparse.ArgumentTypeError("--think-time needs 0 <= MIN <= MAX")
    return bounds


def parse_steps(raw: str) -> tuple[int, ...]:
    steps = tuple(int(part) for part in raw.split(",") if part.strip())
    if not steps or any(step < 1 for step in steps) or list(steps) != sorted(steps):
        raise argparse.ArgumentTypeError("--steps must be increasing positive user counts, e.g. 100,500,1000")
    return steps
