"""Benchmark shapes: how many contexts of how many components, and what the shape measures.

A shape is written ``[KIND:]CONTEXTSxCOMPONENTS[:ARGUMENT]``:

- ``200x10``: the chord shape, bare Celery against the orchestrated workflow;
- ``repo:1x50:10000``: the same, on a repository padded to 10,000 files (pair it with a small
  one, ``repo:1x50:100``: the per-child overhead of the two is compared);
- ``sandbox:1x50``: the same with doubles that start a trivial program in the sandbox, on
  workers with the sandbox on and then off, and the sandbox's start-up per run;
- ``hol:1x1:60``: head of line, a context whose tests sleep 60 s, and the delay it causes to
  another session's steps;
- ``incremental:1x50``: a second session on an unchanged context against the first (see
  :mod:`~tests.benchmarks.incremental`); ``incremental:1x50:2000`` gives the agent double a
  cost of 2,000 ms a component (a stand-in for a paid agent's time), the default none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from ctworkflow import errors


class Kind(StrEnum):
    """What a shape measures."""

    CHORD = "chord"
    REPOSITORY = "repo"
    SANDBOX = "sandbox"
    HEAD_OF_LINE = "hol"
    INCREMENTAL = "incremental"


_SHAPE: Final = re.compile(r"(?:([a-z]+):)?(\d+)x(\d+)(?::(\d+))?")
#: The kinds whose ``:ARGUMENT`` is required: the repository's files, the slow test's seconds.
_ARGUMENT: Final = {Kind.REPOSITORY: "files", Kind.HEAD_OF_LINE: "seconds"}
#: The kinds whose ``:ARGUMENT`` may be left out (0): the agent double's milliseconds.
_OPTIONAL: Final = {Kind.INCREMENTAL: "agent_ms"}

#: Named sets of shapes; anything else is a comma-separated list of shapes.
PRESETS: Final = {
    # Head of line is left out of the smoke selection: its slow context's real pytest runs
    # (component run and validation, with their measurements) take minutes on a loaded machine.
    "smoke": "5x3,1x50,repo:1x20:100,repo:1x20:2000,sandbox:1x20,incremental:1x20",
    "medium": (
        "200x10,1x1000,repo:1x200:100,repo:1x200:10000,sandbox:1x200,hol:1x1:20,"
        "incremental:1x50,incremental:1x50:2000"
    ),
    "small": "200x10,1x1000",
    "full": (
        "200x10,1x1000,1x5000,1x10000,repo:1x1000:100,repo:1x1000:10000,sandbox:1x1000,"
        "hol:1x1:60,incremental:1x50,incremental:1x50:2000"
    ),
}


@dataclass(frozen=True, slots=True)
class Shape:
    """``contexts`` contexts of ``components`` components each: one chord per context."""

    contexts: int
    components: int
    kind: Kind = Kind.CHORD
    #: The repository's files at least (repo), the slow test's seconds (hol), the agent's
    #: milliseconds a component (incremental); else 0.
    argument: int = 0

    @property
    def name(self) -> str:
        core = f"{self.contexts}x{self.components}"
        if self.kind is Kind.CHORD:
            return core
        given = self.kind in _ARGUMENT or (self.kind in _OPTIONAL and self.argument)
        suffix = f":{self.argument}" if given else ""
        return f"{self.kind.value}:{core}{suffix}"

    @property
    def children(self) -> int:
        """Header tasks (component runs) over all the shape's chords."""
        return self.contexts * self.components

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind.value,
            "contexts": self.contexts,
            "components": self.components,
            "children": self.children,
        }
        named = _ARGUMENT | _OPTIONAL
        if self.kind in named:
            found[named[self.kind]] = self.argument
        return found


def _parse_one(part: str) -> Shape:
    found = _SHAPE.fullmatch(part)
    kinds = ", ".join(kind.value for kind in Kind if kind is not Kind.CHORD)
    if found is None:
        presets = ", ".join(PRESETS)
        raise errors.InvalidInput(
            f"bad shape {part!r}: expected [KIND:]CONTEXTSxCOMPONENTS[:N] (e.g. 200x10, "
            f"repo:1x50:10000; kinds {kinds}) or one of {presets}"
        )
    try:
        kind = Kind(found[1]) if found[1] else Kind.CHORD
    except ValueError:
        raise errors.InvalidInput(f"bad shape {part!r}: unknown kind (one of {kinds})") from None
    contexts, components = int(found[2]), int(found[3])
    if contexts < 1 or components < 1:
        raise errors.InvalidInput(f"bad shape {part!r}: both numbers must be >= 1")
    given = found[4] is not None
    if (given and kind not in _ARGUMENT | _OPTIONAL) or (not given and kind in _ARGUMENT):
        raise errors.InvalidInput(
            f"bad shape {part!r}: repo:CxN:FILES and hol:CxN:SECONDS take a number, "
            "incremental:CxN[:AGENT_MS] may, other kinds none"
        )
    argument = int(found[4] or 0)
    if kind in _ARGUMENT and argument < 1:
        raise errors.InvalidInput(f"bad shape {part!r}: its number must be >= 1")
    return Shape(contexts, components, kind, argument)


def parse_shapes(text: str) -> list[Shape]:
    """Shapes from a preset name or from ``"200x10,repo:1x50:10000"``; InvalidInput if not."""
    spec = PRESETS.get(text.strip(), text)
    return [_parse_one(part.strip()) for part in spec.split(",")]
