"""Connection strings the app reads (MONGO_URL, REDIS_URL), built from their parts.

Credentials are percent-encoded: a password with `@`, `:` or `/` would otherwise split the URL in the wrong
place and the driver would connect to the wrong host or fail with a confusing error.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

# What every app connection asks of Atlas: retry once on a failover, acknowledge writes on a majority.
MONGO_OPTIONS = "retryWrites=true&w=majority"


def _credential(value: str) -> str:
    return quote(value, safe="")


def mongo_url(srv_address: str, username: str, password: str, database: str) -> str:
    """`mongodb+srv://cluster-pri.x.mongodb.net` + user + password + db -> the app's MONGO_URL.

    `srv_address` is what Atlas returns (its private SRV string for peered clusters), with or without scheme.
    """
    host = _host_of(srv_address, "mongodb+srv")
    if not database or "/" in database:
        raise ValueError(f"database name {database!r} must be non-empty and contain no '/'")
    return f"mongodb+srv://{_credential(username)}:{_credential(password)}@{host}/{database}?{MONGO_OPTIONS}"


def peered_srv(private_srv: str | None, standard_srv: str | None) -> str:
    """The SRV string the app should use over the VPC peering: the peering one, else the standard one.

    Atlas returns the peering ("private") string once it has registered the peering, which may lag the
    first `up`. On AWS the standard string is a safe stand-in: from inside a peered VPC with DNS support and
    DNS hostnames on (the network turns both on), its host names resolve to the nodes' private addresses
    (Atlas docs: "Set Up a Network Peering Connection" and "FAQ: Connection String Options"); the private one
    is what custom DNS setups need. And the project's IP access list admits the VPC only, so a name that
    resolved publicly would be refused, not reached over the internet.
    """
    for candidate in (private_srv, standard_srv):
        if candidate:
            return candidate
    raise ValueError("Atlas returned no SRV connection string for the cluster yet; run `pulumi up` again")


def redis_url(host: str, port: int, auth_token: str, *, tls: bool = True, database: int = 0) -> str:
    """`rediss://:<token>@host:port/0`: ElastiCache's AUTH token is the default user's password, no user name."""
    if not host or "/" in host or "@" in host:
        raise ValueError(f"{host!r} is not a host name")
    scheme = "rediss" if tls else "redis"
    return f"{scheme}://:{_credential(auth_token)}@{host}:{port}/{database}"


def _host_of(address: str, scheme: str) -> str:
    text = address if "://" in address else f"{scheme}://{address}"
    parts = urlsplit(text)
    if parts.scheme != scheme or not parts.hostname or parts.username or parts.password:
        raise ValueError(f"expected a {scheme}:// address without credentials, got {parts.scheme}://...")
    return parts.hostname
