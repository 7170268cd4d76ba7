"""A running child's pipes: its input fed, its output drained up to a limit, and how it ended."""

from __future__ import annotations

import os
import selectors
import subprocess
import time
from contextlib import suppress
from enum import Enum
from typing import Any

#: Bytes read from or written to a pipe at once.
_CHUNK = 1 << 16


class Ending(Enum):
    DONE = "done"
    TIMED_OUT = "timed out"
    STOPPED = "stopped"
    EXCEEDED = "output over its limit"
    LINGERING = "done, but something it left behind holds the pipes open"


class OutputPump:
    """Feeds stdin and drains stdout and stderr, keeping at most ``limit`` bytes of each."""

    def __init__(self, proc: subprocess.Popen[bytes], input: bytes | None, limit: int | None):
        self._selector = selectors.DefaultSelector()
        self._buffers = {"stdout": bytearray(), "stderr": bytearray()}
        self._limit = limit
        self._input = memoryview(input or b"")
        self.exceeded: str | None = None
        for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            if stream is not None:
                self._selector.register(stream, selectors.EVENT_READ, name)
        if proc.stdin is not None:
            if self._input:
                os.set_blocking(proc.stdin.fileno(), False)
                self._selector.register(proc.stdin, selectors.EVENT_WRITE, "stdin")
            else:
                proc.stdin.close()

    @property
    def open(self) -> bool:
        """Tell whether a pipe is still open (the program or a leftover may still write)."""
        return bool(self._selector.get_map())

    def pump(self, timeout_s: float) -> None:
        """Move what the pipes have within ``timeout_s``."""
        for key, _events in self._selector.select(max(timeout_s, 0.0)):
            stream = key.fileobj
            assert not isinstance(stream, int)
            if key.data == "stdin":
                self._feed(stream)
                continue
            data = os.read(key.fd, _CHUNK)
            if not data:
                self._done(stream)
                continue
            buffer = self._buffers[key.data]
            if self._limit is not None and len(buffer) + len(data) > self._limit:
                self.exceeded = self.exceeded or key.data
                data = data[: max(self._limit - len(buffer), 0)]
            buffer += data

    def drain(self, proc: subprocess.Popen[bytes], until: float) -> bool:
        """Read until every pipe is closed and ``proc`` ended, or ``until`` passes; tell which."""
        while self.open or proc.poll() is None:
            remaining = until - time.monotonic()
            if remaining <= 0:
                return False
            self.wait(proc, min(remaining, 0.1))
        return True

    def wait(self, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
        """Pump the pipes for up to ``timeout_s``, or wait for ``proc`` once they are closed."""
        if self.open:
            self.pump(timeout_s)
            return
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(timeout_s, 0.0))

    def text(self, name: str) -> str:
        """What a stream said, decoded as text with universal newlines."""
        text = self._buffers[name].decode("utf-8", errors="replace")
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def close(self) -> None:
        """Stop watching the pipes (closing them is :func:`_reap`'s job)."""
        self._selector.close()

    def _feed(self, stream: Any) -> None:
        try:
            written = os.write(stream.fileno(), self._input[:_CHUNK])
        except BlockingIOError:
            return
        except BrokenPipeError:
            written = len(self._input)  # the program stopped reading: drop the rest
        self._input = self._input[written:]
        if not self._input:
            self._done(stream)

    def _done(self, stream: Any) -> None:
        self._selector.unregister(stream)
        with suppress(OSError):
            stream.close()
