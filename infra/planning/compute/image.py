"""How the fleet names the image it runs: `repository:tag`, or `repository@sha256:...` for a digest."""

from __future__ import annotations

import re

_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


def is_digest(image_tag: str) -> bool:
    return _DIGEST.match(image_tag) is not None


def image_reference(repository_url: str, image_tag: str) -> str:
    """`123.dkr.ecr.us-east-1.amazonaws.com/contentry-prod/api` + `1.4.2` -> `...api:1.4.2`; a digest pins the
    exact bytes (for a multi-architecture image, the index: each instance then pulls its own architecture)."""
    if not repository_url or "/" not in repository_url:
        raise ValueError(f"'{repository_url}' is not a registry/repository URL")
    separator = "@" if is_digest(image_tag) else ":"
    return f"{repository_url}{separator}{image_tag}"


def registry_host(repository_url: str) -> str:
    """The registry to log in to: the URL's host (`123.dkr.ecr.us-east-1.amazonaws.com`)."""
    return repository_url.split("/", 1)[0]
