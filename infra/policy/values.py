"""A value at a path in a resource's inputs, and the marker for one not known until `pulumi up`: the lowest
layer of the policy package, which both the model and the reference resolution read."""

from __future__ import annotations

from typing import Any

UNKNOWN = "[unknown]"
"""A value known only once the resource exists (how the plan shows it; the policy SDK's sentinels map to it)."""


class UnknownValueAt(Exception):
    """A rule needed a value that is unknown until `pulumi up` creates what it depends on."""

    def __init__(self, path: tuple[str | int, ...]) -> None:
        self.path = path
        super().__init__(f"{'.'.join(str(part) for part in path)} is unknown until the update")


def get(node: Any, *path: str | int) -> Any:
    """The value at `path` under `node` (dict keys, list indexes), None when absent. Raises `UnknownValueAt`
    when the value, or an object on the way to it, is not known yet: a rule never guesses an unknown value."""
    walked: tuple[str | int, ...] = ()
    for part in path:
        if node == UNKNOWN:
            raise UnknownValueAt(walked)
        walked = (*walked, part)
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and -len(node) <= part < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    if node == UNKNOWN:
        raise UnknownValueAt(walked)
    return node
