"""The URL check: GET <url>/api/health answers 200, over HTTPS with the certificate verified.

What verify accepts: HTTPS, always verified (against the system's trust store, or a CA bundle given with
`--ca-bundle`; verification is never switched off). Plain HTTP only where the program itself serves it: a
development stack without a domain, whose `url` is `http://` on the load balancer's own name (`albDnsName`).
Production always has a domain and HTTPS (the config refuses it otherwise), so an http URL there is a failure.
Redirects are not followed: the health endpoint must answer itself, as the target group's check sees it.
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from infra.verify.result import CheckResult

HEALTH_PATH = "/api/health"
DEVELOPMENT = "development"


@dataclass(frozen=True)
class UrlCheckArgs:
    url: str
    environment: str
    """The stack's `environment` output: plain HTTP is accepted only in development."""
    alb_dns_name: str = ""
    """The `albDnsName` output: plain HTTP is accepted only on the load balancer's own name."""
    ca_bundle: Path | None = None
    timeout_seconds: float = 10.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None  # the 3xx is then raised as an HTTPError and reported


def health_url(url: str) -> str:
    return url.rstrip("/") + HEALTH_PATH


def _plain_http_allowed(args: UrlCheckArgs, host: str) -> bool:
    return args.environment == DEVELOPMENT and bool(args.alb_dns_name) and host == args.alb_dns_name.lower()


def check_url(args: UrlCheckArgs) -> CheckResult:
    name = "url"
    parts = urlsplit(args.url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        return CheckResult.failed(name, f"url output {args.url!r} is not an http(s) URL")
    if parts.scheme == "http" and not _plain_http_allowed(args, host):
        return CheckResult.failed(
            name,
            f"{args.url} is plain HTTP: only a development stack without a domain may serve HTTP, on its load "
            f"balancer's name (albDnsName); this stack's environment is {args.environment or 'unknown'}",
        )
    target = health_url(args.url)
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=str(args.ca_bundle) if args.ca_bundle else None)
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(target, headers={"User-Agent": "contentry-verify"})  # noqa: S310 (scheme checked)
    try:
        with opener.open(request, timeout=args.timeout_seconds) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        return CheckResult.failed(name, f"GET {target} answered {error.code} {error.reason}, not 200")
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            return CheckResult.failed(
                name,
                f"GET {target}: the TLS certificate is not trusted ({reason.verify_message}); verify never skips "
                "the check (for a private CA, pass --ca-bundle)",
            )
        return CheckResult.failed(name, f"GET {target} failed: {reason}")
    except (TimeoutError, OSError) as error:
        return CheckResult.failed(name, f"GET {target} failed: {error}")
    if status != 200:
        return CheckResult.failed(name, f"GET {target} answered {status}, not 200")
    note = "" if parts.scheme == "https" else " (plain HTTP: a development stack without a domain)"
    return CheckResult.passed(name, f"GET {target} answered 200{note}")
