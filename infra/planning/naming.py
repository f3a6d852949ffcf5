"""Names: logical names derive from the component's name, Name tags from the stack's prefix.

Physical names are left to Pulumi's auto-naming (a random suffix), so a replacement can be created before the
old resource is deleted and two stacks never collide in one account.
"""

from __future__ import annotations


def child_name(component: str, *parts: str | int) -> str:
    """`network` + (`private`, 0) -> `network-private-0`: unique within the stack when component names are."""
    return "-".join([component, *(str(part) for part in parts)])


def name_tag(prefix: str, *parts: str | int) -> dict[str, str]:
    """The console's Name column; provider default tags cannot carry it, since it differs per resource."""
    return {"Name": child_name(prefix, *parts)}
