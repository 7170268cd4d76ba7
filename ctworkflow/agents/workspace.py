"""What the built-in agents share about the files they read and write."""

from __future__ import annotations

from typing import Final

#: The largest source file the scaffold agent reads.
SOURCE_MAX_BYTES: Final = 16 << 20


class ScaffoldError(Exception):
    """The scaffold cannot write tests for this source."""
