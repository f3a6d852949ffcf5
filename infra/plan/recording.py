"""A mock monitor that records every registration exactly as the engine would receive it.

`Mocks.new_resource` sees only a resource's type, name and inputs; the engine also gets its parent, provider
and options (protect, retainOnDelete, ...). This monitor keeps the whole request, so the plan shows what
`pulumi up` would be asked to do, not what a test chose to look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import get_project, get_stack

from infra.plan.urns import ROOT_STACK_TYPE, engine_urn, qualified_type

# Wire signatures of the Pulumi RPC protocol (sdk/python/lib/pulumi/runtime/rpc.py).
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 (a wire signature)
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
REDACTED = "[secret]"


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str | None
    provider: str
    custom: bool
    inputs: dict[str, Any]
    options: dict[str, Any]


@dataclass
class Recording:
    resources: list[Registration] = field(default_factory=list)
    stack_outputs: dict[str, Any] = field(default_factory=dict)


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: Any) -> None:
        super().__init__(mocks)
        self.recording = Recording()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The SDK's mock keeps `pulumi:pulumi:Stack` in its URNs and drops a grandparent's type: not the engine's.
        return engine_urn(get_stack(), get_project(), parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != ROOT_STACK_TYPE:
            self.recording.resources.append(
                Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent or None,
                    provider=request.provider,
                    custom=bool(request.custom),
                    inputs=redact(json_format.MessageToDict(request.object)),
                    options={
                        "protect": bool(request.protect),
                        "retainOnDelete": bool(request.retainOnDelete),
                        "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                        "ignoreChanges": sorted(request.ignoreChanges),
                        "dependsOn": sorted(set(request.dependencies)),
                    },
                )
            )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if qualified_type(request.urn) == ROOT_STACK_TYPE:
            self.recording.stack_outputs = redact(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)


def redact(value: Any) -> Any:
    """Wire values to plain JSON: secrets become `[secret]`, resource references their URN."""
    if isinstance(value, dict):
        signature = value.get(SIG_KEY)
        if signature == SECRET_SIG:
            return REDACTED
        if signature == RESOURCE_SIG:
            return value.get("urn", "")
        if signature == OUTPUT_VALUE_SIG:
            return REDACTED if value.get("secret") else redact(value.get("value"))
        if signature in (ASSET_SIG, ARCHIVE_SIG):
            return {key: redact(item) for key, item in value.items() if key != SIG_KEY}
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    if value == UNKNOWN:
        return "[unknown]"
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire has only doubles; the plan shows 4, not 4.0
    return value
