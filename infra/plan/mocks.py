"""What the mock engine answers: deterministic ids, the computed outputs the program reads, and invokes.

Every value is derived from the resource's name and the stack's region, never random, so the same config
gives a byte-identical plan. An invoke this table does not know fails loudly: an empty answer would let the
program run on `None` and the plan lie.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"

# Zones per region as AWS lists them (opt-in-not-required, 2026); other regions get a, b, c.
_ZONE_LETTERS = {
    "us-east-1": "abcdef",
    "us-west-2": "abcd",
    "ap-northeast-1": "acd",
    "ca-central-1": "abd",
}


class UnmockedInvokeError(Exception):
    pass


def _service_of(type_token: str) -> str:
    # aws:ec2/vpc:Vpc -> ec2; aws:cloudwatch/logGroup:LogGroup -> logs
    module = type_token.split(":")[1].split("/")[0]
    return {"cloudwatch": "logs"}.get(module, module)


class PlanMocks(pulumi.runtime.Mocks):
    def __init__(self, region: str) -> None:
        self.region = region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id = f"{args.name}-id"
        state: dict[str, Any] = dict(args.inputs)
        if args.typ.startswith("aws:"):
            state.setdefault("arn", f"arn:aws:{_service_of(args.typ)}:{self.region}:{ACCOUNT_ID}:{args.name}")
        computed = _COMPUTED.get(args.typ)
        if computed is not None:
            state.update(computed(args.name, args.inputs, self.region))
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        handler = _INVOKES.get(args.token)
        if handler is None:
            raise UnmockedInvokeError(
                f"the offline plan has no answer for invoke {args.token}; add one to infra/plan/mocks.py"
            )
        return handler(args.args, self.region), []


def _zones(_: dict[str, Any], region: str) -> dict[str, Any]:
    letters = _ZONE_LETTERS.get(region, "abc")
    return {
        "names": [f"{region}{letter}" for letter in letters],
        "zoneIds": [f"{region[:3]}{region[-1]}-az{index + 1}" for index in range(len(letters))],
        "state": "available",
        "id": region,
    }


def _caller_identity(_: dict[str, Any], __: str) -> dict[str, Any]:
    return {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline-plan",
        "userId": "AIDAOFFLINEPLAN",
        "id": ACCOUNT_ID,
    }


def _region(_: dict[str, Any], region: str) -> dict[str, Any]:
    return {"region": region, "name": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com"}


def _partition(_: dict[str, Any], __: str) -> dict[str, Any]:
    return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}


_INVOKES: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _zones,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getRegion:getRegion": _region,
    "aws:index/getPartition:getPartition": _partition,
}

# Outputs the provider computes and the program reads (ids and ARNs are handled above).
_COMPUTED: dict[str, Callable[[str, dict[str, Any], str], dict[str, Any]]] = {
    "aws:ec2/eip:Eip": lambda name, _, __: {"publicIp": "192.0.2.10", "allocationId": f"{name}-alloc"},
}
