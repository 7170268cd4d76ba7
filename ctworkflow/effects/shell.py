"""Run a child program safely: argv lists only, an allow-listed environment, hard time limits.

Every program runs in a process group of its own (``start_new_session=True``), so a time limit,
a stop request or an error here kills the program *and* everything it started; whatever it left
running in its group when it exits is killed too. Nothing is ever handed to a shell: the argv
list reaches ``execve`` as is. A caller running code we did not write passes a
:class:`~ctworkflow.effects.sandbox.Policy` saying what that run may do; the program then runs
in the sandbox, whose PID namespace also takes the processes that left the group.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ctworkflow.effects import sandbox, sandbox_network
from ctworkflow.effects.output_pump import Ending, OutputPump

__all__ = ["ENV_ALLOW_LIST", "CommandResult", "base_env", "policy_runs", "run"]

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

_policy_runs = 0
_policy_runs_lock = threading.Lock()  # counted across a process's threads


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
    #: The stream (``stdout`` or ``stderr``) that went over the output limit, if one did:
    #: the program was stopped and the rest of its output dropped.
    exceeded: str | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the program ran to completion and exited with status 0."""
        return (
            self.returncode == 0
            and not self.timed_out
            and not self.stopped
            and self.exceeded is None
        )

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


def policy_runs() -> int:
    """How many programs this process has started with a policy (agents', runners', builds').

    Each is gone, its whole process group killed, when :func:`run` returns; so a look at a
    workspace made while this count stays the same is not outdated by any of them (the kept
    workspaces' reset, :mod:`ctworkflow.effects.git.kept`, relies on it).
    """
    return _policy_runs


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    should_stop: Callable[[], bool] | None = None,
    poll_s: float = 0.5,
    policy: sandbox.Policy | None = None,
    max_output_bytes: int | None = None,
) -> CommandResult:
    """Run ``argv`` in ``cwd`` and collect its output; kill its whole process group on timeout.

    With a ``policy`` the program runs in this worker's sandbox (:mod:`.sandbox`) as the
    policy allows, and each output stream is kept up to ``CTW_MAX_OUTPUT_BYTES`` unless
    ``max_output_bytes`` says otherwise: a program that prints more is stopped
    (:attr:`CommandResult.exceeded`).

    Raises:
        SandboxUnavailable: a policy is given and the configured sandbox cannot run here.
    """
    args = tuple(argv)
    if not args:
        raise ValueError("empty argv")
    if poll_s <= 0:
        raise ValueError("poll_s must be positive")
    command, run_env = list(args), dict(base_env() if env is None else env)
    if policy is None:
        return _execute(
            args,
            command,
            cwd,
            run_env,
            input,
            should_stop,
            poll_s,
            timeout_s,
            limit=max_output_bytes,
        )
    global _policy_runs
    with _policy_runs_lock:
        _policy_runs += 1
    missing = _missing_program(args[0], run_env, cwd)
    if missing is not None:  # said here: inside the sandbox it would be bwrap's words
        return CommandResult(
            argv=args, returncode=_NOT_FOUND, stdout="", stderr=missing, duration_s=0.0
        )
    config = sandbox.configured()
    limit = config.max_output_bytes if max_output_bytes is None else max_output_bytes
    with contextlib.ExitStack() as stack:
        network = None
        if policy.network and config.mode == sandbox.BUBBLEWRAP:
            network = stack.enter_context(sandbox_network.serving(policy.allow))
        command, run_env = sandbox.prepare(
            command, run_env, cwd=cwd, policy=policy, config=config, network=network
        )
        return _execute(
            args, command, cwd, run_env, input, should_stop, poll_s, timeout_s, limit=limit
        )


def _execute(
    args: tuple[str, ...],
    command: list[str],
    cwd: Path,
    run_env: dict[str, str],
    input: str | None,
    should_stop: Callable[[], bool] | None,
    poll_s: float,
    timeout_s: float,
    *,
    limit: int | None,
) -> CommandResult:
    """Start ``command`` (``args`` as it was asked) and collect it as :func:`run` says."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=run_env,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
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
    pump = OutputPump(proc, None if input is None else input.encode("utf-8"), limit or None)
    try:
        ending = _watch(proc, pump, started + timeout_s, should_stop, poll_s)
        if ending is not Ending.DONE:
            _terminate(proc, pump)
        returncode = proc.wait()
    finally:
        pump.close()
        _reap(proc)
    return CommandResult(
        argv=args,
        returncode=returncode,
        stdout=pump.text("stdout"),
        stderr=pump.text("stderr"),
        duration_s=time.monotonic() - started,
        timed_out=ending is Ending.TIMED_OUT,
        stopped=ending is Ending.STOPPED,
        exceeded=pump.exceeded,
    )


def _watch(
    proc: subprocess.Popen[bytes],
    pump: OutputPump,
    deadline: float,
    should_stop: Callable[[], bool] | None,
    poll_s: float,
) -> Ending:
    """Pump the pipes until they close and the program ends, the deadline passes or a stop
    is asked (a program that closed its pipes still has its time limit)."""
    next_check = time.monotonic()
    exited_at: float | None = None
    while pump.open or proc.poll() is None:
        now = time.monotonic()
        if now >= deadline:
            return Ending.TIMED_OUT
        if pump.exceeded is not None:
            return Ending.EXCEEDED
        if should_stop is not None and now >= next_check:
            if should_stop():
                return Ending.STOPPED
            next_check = now + poll_s
        if proc.poll() is not None:  # it ended, but its pipes are still open
            exited_at = now if exited_at is None else exited_at
            if now - exited_at >= poll_s:
                return Ending.LINGERING
        pump.wait(proc, min(poll_s, deadline - now))
    return Ending.DONE


def _terminate(proc: subprocess.Popen[bytes], pump: OutputPump) -> None:
    """SIGTERM the process group, SIGKILL it after a grace period, and collect the output."""
    _signal_group(proc.pid, signal.SIGTERM)
    if not pump.drain(proc, time.monotonic() + _TERM_GRACE_S):
        _signal_group(proc.pid, signal.SIGKILL)
        # Something outside the group may still hold the pipes: keep what was read so far.
        pump.drain(proc, time.monotonic() + _KILL_GRACE_S)


def _reap(proc: subprocess.Popen[bytes]) -> None:
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


def _missing_program(program: str, env: Mapping[str, str], cwd: Path) -> str | None:
    """Why ``program`` cannot start, found as ``execvp`` would find it; None if it can."""
    if not cwd.is_dir():
        return f"working directory not usable: {cwd}"
    if "/" in program:
        path = Path(program) if os.path.isabs(program) else cwd / program
        if not path.is_file():
            return f"program not found: {program}"
        return None if os.access(path, os.X_OK) else f"program not executable: {program}"
    if shutil.which(program, path=env.get("PATH", os.defpath)) is None:
        return f"program not found: {program}"
    return None


def _spawn_error(exc: OSError, program: str, cwd: Path) -> str:
    """Say why a program could not be started."""
    if exc.filename is not None and os.fspath(exc.filename) == os.fspath(cwd):
        return f"working directory not usable: {cwd}"
    if isinstance(exc, PermissionError):
        return f"program not executable: {program}"
    return f"program not found: {program}"
