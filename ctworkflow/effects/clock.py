"""The system clock, as the :class:`~ctworkflow.ports.Clock` port."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SystemClock:
    """The real time: ``datetime.now(UTC)``, ``time.monotonic`` and ``time.sleep``."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Seconds from an arbitrary start, never going back."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        time.sleep(seconds)
