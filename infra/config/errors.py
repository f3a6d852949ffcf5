"""How config problems are reported: every problem at once, each naming its key and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True, order=True)
class ConfigProblem:
    key: str
    """The full config key, `namespace:name`, exactly as `pulumi config set` takes it."""
    message: str
    """What is wrong and what is allowed."""

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class InvalidStackConfig(pulumi.RunError):
    """Raised before any resource is registered. A `RunError`, so the CLI prints it without a traceback."""

    def __init__(self, stack: str, problems: list[ConfigProblem]) -> None:
        self.stack = stack
        self.problems = sorted(set(problems))
        noun = "problem" if len(self.problems) == 1 else "problems"
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"Invalid config for stack '{stack}' ({len(self.problems)} {noun}):\n{lines}")
