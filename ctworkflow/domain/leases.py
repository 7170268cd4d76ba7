"""Leases on component runs: who may run a component session's round, and when to take over.

A run holds its session's lease while it works and renews it as it goes. A second delivery of
the same round finds the lease held and starts no second agent; it takes over only once the
lease has expired, or at once when the holder is a process of the same host that is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Holder:
    """A run that holds a lease: its host, its process id and a token of its own."""

    host: str
    pid: int
    token: str

    def __str__(self) -> str:
        return f"{self.host}/{self.pid}/{self.token}"

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        """Read a holder back from its string; None if it is not one."""
        host, _, rest = text.rpartition("/")
        host, _, pid = host.rpartition("/")
        if not host or not pid.isdigit() or not rest:
            return None
        return cls(host=host, pid=int(pid), token=rest)


def holder_is_gone(owner: str | None, *, host: str, process_alive: Callable[[int], bool]) -> bool:
    """Tell whether ``owner`` is a process of this host that no longer runs."""
    holder = Holder.parse(owner) if owner else None
    return holder is not None and holder.host == host and not process_alive(holder.pid)


def is_free(
    owner: str | None,
    expires_at: datetime | None,
    now: datetime,
    *,
    host: str,
    process_alive: Callable[[int], bool],
) -> bool:
    """Tell whether a lease may be taken: never taken, released, expired, or its holder gone."""
    if owner is None:
        return True
    if expires_at is None or expires_at <= now:
        return True
    return holder_is_gone(owner, host=host, process_alive=process_alive)
