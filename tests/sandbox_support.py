"""Finding the processes of a sandboxed run from outside: its pids are not the ones it sees.

A program in the sandbox's PID namespace knows itself by a pid that means nothing (or another
process) outside, so the tests find their processes by a marker in the command line instead.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path


def new_marker() -> str:
    """A word no other process has in its command line."""
    return f"ctw-marker-{uuid.uuid4().hex}"


def processes_with(marker: str) -> list[int]:
    """The host pids of the live processes whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def wait_for_processes(marker: str, count: int, within_s: float = 30.0) -> list[int]:
    """Wait until ``count`` processes carry ``marker``; fail the test past the deadline."""
    deadline = time.monotonic() + within_s
    while len(found := processes_with(marker)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} of {count} processes with {marker} appeared")
        time.sleep(0.05)
    return found


def gone_within(marker: str, within_s: float) -> bool:
    """Tell whether every process carrying ``marker`` is gone within ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while processes_with(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
