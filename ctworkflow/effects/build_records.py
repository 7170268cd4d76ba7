"""What the history keeps of an environment's build: its commands, and how it came to be."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ctworkflow.domain.repository.environments import (
    Environment,
    Recipe,
)

__all__ = ["Build", "Step"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One command of a build, as the history shows it."""

    argv: tuple[str, ...]
    exit_code: int
    duration_s: float
    output_tail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "argv": list(self.argv),
            "exit_code": self.exit_code,
            "duration_s": round(self.duration_s, 3),
            "output_tail": self.output_tail,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Build:
    """How an environment came to be on this host: built now, or found built."""

    environment: Environment
    recipe: Recipe
    host: str
    #: Whether this call built it (else it was there).
    built: bool
    steps: tuple[Step, ...] = ()
    generated: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.environment.key,
            "host": self.host,
            "built": self.built,
            "recipe": self.recipe.describe(),
            "steps": [s.to_json() for s in self.steps],
            "generated": list(self.generated),
        }
