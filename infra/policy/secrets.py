"""Secrets reach the resources that need them as Pulumi secrets, never as plain values.

The plan shows a secret value as `[secret]`; any other value in an input that carries a credential (a
generated password wired in without `pulumi.Output.secret`, a literal) would be stored in plain text in the
state and printed by `pulumi preview`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infra.policy.model import SECRET, Resource, get

SECRET_INPUTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "aws:secretsmanager/secretVersion:SecretVersion": (("secretString",), ("secretBinary",)),
    "mongodbatlas:index/databaseUser:DatabaseUser": (("password",),),
    "aws:elasticache/replicationGroup:ReplicationGroup": (("authToken",),),
    "aws:elasticache/user:User": (("passwords",), ("authenticationMode", "passwords")),
    "aws:rds/cluster:Cluster": (("masterPassword",),),
    "aws:rds/instance:Instance": (("password",),),
    "aws:ssm/parameter:Parameter": (("value",),),
    "kubernetes:core/v1:Secret": (("data",), ("stringData",)),
    "pulumi:providers:kubernetes": (("kubeconfig",),),
    "pulumi:providers:aws": (("secretKey",), ("token",)),
    "pulumi:providers:mongodbatlas": (("privateKey",),),
}


def _plain_leaves(value: Any, path: str) -> Iterator[str]:
    if value is None or value in ("", SECRET):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _plain_leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _plain_leaves(item, f"{path}[{index}]")
    else:
        yield path


def not_in_plain_text(resource: Resource) -> Iterator[str]:
    if resource.type == "aws:ssm/parameter:Parameter" and get(resource.inputs, "type") != "SecureString":
        return  # a plain String parameter is configuration, not a credential
    for path in SECRET_INPUTS.get(resource.type, ()):
        for leaf in _plain_leaves(get(resource.inputs, *path), ".".join(path)):
            yield (
                f"{resource.name}: {leaf} holds a credential in plain text: pass it as a Pulumi secret "
                "(pulumi.Output.secret(...), a RandomPassword's result, or `pulumi config set --secret`), so the "
                "state encrypts it and previews hide it"
            )
