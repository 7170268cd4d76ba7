"""Run a child program safely: argv lists only, an allow-listed environment, hard time limits.

Every program runs in a process group of its own (``start_new_session=True``), so a time limit,
a stop request or an error here kills the program *and* everything it started; whatever it left
running in its group when it exits is killed too. Nothing is ever handed to a shell: the argv
list reaches ``execve`` as is.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["ENV_ALLOW_LIST", "CommandResult", "base_env", "run"]

ENV_ALLOW_LIST = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "SSH_AUTH_SOCK",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_NOSYSTEM",
)
_FORBIDDEN_PREFIX = "CTW_"
_NOT_FOUND = 127
_TERM_GRACE_S = 3.0  # between SIGTERM and SIGKILL
_KILL_GRACE_S = 5.0  # for the pipes to close once everything got SIGKILL


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandResult:
    """What a finished child program left behind."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    stopped: bool = False

    @property
    def ok(self) -> bool:
        """Tell whether the program ran to completion and exited with status 0."""
        return self.returncode == 0 and not self.timed_out and not self.stopped

    def tail(
        self, stream: Literal["stdout", "stderr"] = "stdout", lines: int = 40, chars: int = 4000
    ) -> str:
        """Return the last ``lines`` lines of a stream, cut to its last ``chars`` characters."""
        text = self.stdout if stream == "stdout" else self.stderr
        kept = "\n".join(text.splitlines()[-lines:]) if lines > 0 else ""
        return kept[-chars:] if chars > 0 else ""


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the allow-listed part of this process's environment, plus ``extra``."""
    env = {name: os.environ[name] for name in ENV_ALLOW_LIST if name in os.environ}
    for name, value in (extra or {}).items():
        if name.startswith(_FORBIDDEN_PREFIX):
            raise ValueError(f"{_FORBIDDEN_PREFIX}* variables are never passed on: {name}")
        env[name] = value
    return env


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    should_stop: Callable[[], bool] | None = None,
    poll_s: float = 0.5,
) -> CommandResult:
    """Run ``argv`` in ``cwd`` and collect its output; kill its whole process group on timeout."""
    args = tuple(argv)
    if not args:
        raise ValueError("empty argv")
    if poll_s <= 0:
        raise ValueError("poll_s must be positive")
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(args),
            cwd=cwd,
            env=dict(base_env() if env is None else env),
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError) as exc:
        return CommandResult(
            argv=args,
            returncode=_NOT_FOUND,
            stdout="",
            stderr=_spawn_error(exc, args[0], cwd),
            duration_s=time.monotonic() - started,
        )
    try:
        stdout, stderr, timed_out, stopped = _communicate(
            proc, input, started + timeout_s, should_stop, poll_s
        )
        returncode = proc.wait()
    finally:
        _reap(proc)
    return CommandResult(
        argv=args,
        returncode=returncode,
        stdout=stdout,
        stderr=stderr,
        duration_s=time.monotonic() - started,
        timed_out=timed_out,
        stopped=stopped,
    )


def _communicate(
    proc: subprocess.Popen[str],
    input: str | None,
    deadline: float,
    should_stop: Callable[[], bool] | None,
    poll_s: float,
) -> tuple[str, str, bool, bool]:
    """Feed and drain the pipes until the program ends, the deadline passes or a stop is asked."""
    pending_input = input
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return (*_terminate(proc), True, False)
        if should_stop is not None and should_stop():
            return (*_terminate(proc), False, True)
        try:
            stdout, stderr = proc.communicate(pending_input, timeout=min(poll_s, remaining))
        except subprocess.TimeoutExpired:
            pending_input = None  # already handed over; communicate() keeps feeding it
            if proc.poll() is not None:
                # The program is done but something it left behind holds the pipes open.
                return (*_terminate(proc), False, False)
        else:
            return stdout or "", stderr or "", False, False


def _terminate(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGTERM the process group, SIGKILL it after a grace period, and collect the output."""
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        stdout, stderr = proc.communicate(timeout=_TERM_GRACE_S)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)
        try:
            stdout, stderr = proc.communicate(timeout=_KILL_GRACE_S)
        except subprocess.TimeoutExpired as exc:
            # Something outside the group still holds the pipes: keep what was read so far.
            return _decode(exc.stdout), _decode(exc.stderr)
    return stdout or "", stderr or ""


def _reap(proc: subprocess.Popen[str]) -> None:
    """Kill whatever is left of the process group, close the pipes and reap the program."""
    _signal_group(proc.pid, signal.SIGKILL)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with suppress(OSError):
                stream.close()
    proc.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to a process group that may already be gone."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _decode(data: str | bytes | None) -> str:
    """Partial output of a timed-out ``communicate()`` as text."""
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data


def _spawn_error(exc: OSError, program: str, cwd: Path) -> str:
    """Say why a program could not be started."""
    if exc.filename is not None and os.fspath(exc.filename) == os.fspath(cwd):
        return f"working directory not usable: {cwd}"
    if isinstance(exc, PermissionError):
        return f"program not executable: {program}"
    return f"program not found: {program}"
