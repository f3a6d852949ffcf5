"""One check's outcome, named, with what was seen: the report prints it and a failure names itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    name: str
    """`url`, `targets`, `capacity`, `alarms`: what failed, in one word."""
    ok: bool
    detail: str

    @classmethod
    def passed(cls, name: str, detail: str) -> CheckResult:
        return cls(name, True, detail)

    @classmethod
    def failed(cls, name: str, detail: str) -> CheckResult:
        return cls(name, False, detail)
