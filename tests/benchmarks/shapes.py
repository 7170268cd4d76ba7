"""Benchmark shapes: how many contexts, each of how many components."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from ctworkflow import errors

_SHAPE: Final = re.compile(r"(\d+)x(\d+)")

#: Named sets of shapes; anything else is a comma-separated list of ``CONTEXTSxCOMPONENTS``.
PRESETS: Final = {
    "smoke": "5x3,1x50",
    "small": "200x10,1x1000",
    "full": "200x10,1x1000,1x5000,1x10000",
}


@dataclass(frozen=True, slots=True)
class Shape:
    """``contexts`` contexts of ``components`` components each: one chord per context."""

    contexts: int
    components: int

    @property
    def name(self) -> str:
        return f"{self.contexts}x{self.components}"

    @property
    def children(self) -> int:
        """Header tasks (component runs) over all the shape's chords."""
        return self.contexts * self.components

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "contexts": self.contexts,
            "components": self.components,
            "children": self.children,
        }


def parse_shapes(text: str) -> list[Shape]:
    """Shapes from a preset name or from ``"200x10,1x1000"``; InvalidInput if malformed."""
    spec = PRESETS.get(text.strip(), text)
    shapes: list[Shape] = []
    for part in spec.split(","):
        found = _SHAPE.fullmatch(part.strip())
        if found is None:
            presets = ", ".join(PRESETS)
            raise errors.InvalidInput(
                f"bad shape {part.strip()!r}: expected CONTEXTSxCOMPONENTS (e.g. 200x10) "
                f"or one of {presets}"
            )
        contexts, components = int(found[1]), int(found[2])
        if contexts < 1 or components < 1:
            raise errors.InvalidInput(f"bad shape {part.strip()!r}: both numbers must be >= 1")
        shapes.append(Shape(contexts, components))
    return shapes
