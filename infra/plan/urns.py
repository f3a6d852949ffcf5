"""Resource URNs exactly as the Pulumi engine builds them, so a URN copied from the plan works with
`pulumi up --target` and `pulumi state`.

The engine's rule (pulumi/pulumi pkg/resource/deploy/deployment.go `generateURN`, and
sdk/go/common/resource/urn/urn.go `New`): `urn:pulumi:<stack>::<project>::<type chain>::<name>`, where the
type chain is the parent's whole qualified type, then `$`, then the resource's own type; a resource parented to
the root stack (or to nothing) has no parent type at all: the root stack's type `pulumi:pulumi:Stack` never
appears in another resource's URN. The SDK's mock monitor instead prefixes the parent's last type only, root
stack included, which no real stack ever shows.
"""

from __future__ import annotations

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
URN_PREFIX = "urn:pulumi:"
NAME_DELIMITER = "::"
TYPE_DELIMITER = "$"


def qualified_type(urn: str) -> str:
    """The type chain of a URN (`contentry:files:Files$aws:s3/bucket:Bucket`): its third `::` part."""
    parts = urn.split(NAME_DELIMITER)
    if not urn.startswith(URN_PREFIX) or len(parts) < 4:
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    return parts[2]


def engine_urn(stack: str, project: str, parent_urn: str | None, type_: str, name: str) -> str:
    """The URN the engine gives a resource of `type_` named `name` under `parent_urn` (None or "" for none)."""
    chain = type_
    if parent_urn:
        parent_type = qualified_type(parent_urn)
        if parent_type != ROOT_STACK_TYPE:
            chain = f"{parent_type}{TYPE_DELIMITER}{type_}"
    return f"{URN_PREFIX}{stack}{NAME_DELIMITER}{project}{NAME_DELIMITER}{chain}{NAME_DELIMITER}{name}"
