"""A clock that moves only when told to (:class:`~ctworkflow.ports.Clock`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """Starts at ``start``; :meth:`sleep` and :meth:`advance` move it, nothing else does."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self._now = start
        self._monotonic = 0.0
        #: Every wait asked of it, in seconds.
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move the time on by ``seconds``."""
        self._now += timedelta(seconds=seconds)
        self._monotonic += seconds
