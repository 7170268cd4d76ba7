"""Child programs run through ctworkflow.effects.shell: real subprocesses, kept fast."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from ctworkflow.effects import shell
from ctworkflow.effects.shell import CommandResult

# A program that starts a grandchild in the background, tells its pid, then waits.
_SPAWNS_GRANDCHILD = 'sleep 60 & echo $! > "$1"; sleep 60'


def _alive(pid: int) -> bool:
    """Tell whether ``pid`` is a running process (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _wait_dead(pid: int, within_s: float = 5.0) -> bool:
    """Wait a little for ``pid`` to die and be reaped."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


def _has_pid(path: Path) -> bool:
    return path.exists() and path.read_text().endswith("\n")


def _read_pid(path: Path, within_s: float = 5.0) -> int:
    """The pid a test program wrote to ``path``."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if text.endswith("\n"):
            return int(text)
        time.sleep(0.01)
    raise AssertionError(f"no pid in {path}")


def test_output_and_exit_code_are_captured(tmp_path: Path) -> None:
    result = shell.run(["sh", "-c", "echo out; echo err >&2; exit 3"], cwd=tmp_path, timeout_s=10)
    assert result.argv == ("sh", "-c", "echo out; echo err >&2; exit 3")
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert not result.ok
    assert not result.timed_out
    assert not result.stopped
    assert result.duration_s >= 0


def test_success_is_ok(tmp_path: Path) -> None:
    result = shell.run(["true"], cwd=tmp_path, timeout_s=10)
    assert result.ok
    assert result.returncode == 0


def test_cwd_is_honoured(tmp_path: Path) -> None:
    result = shell.run(["pwd"], cwd=tmp_path, timeout_s=10)
    assert Path(result.stdout.strip()).resolve() == tmp_path.resolve()


def test_input_is_fed_to_stdin(tmp_path: Path) -> None:
    result = shell.run(["cat"], cwd=tmp_path, timeout_s=10, input="line 1\nligne 2 é\n")
    assert result.stdout == "line 1\nligne 2 é\n"


def test_large_output_does_not_block(tmp_path: Path) -> None:
    program = "import sys; sys.stdout.write('x' * 1_000_000); sys.stderr.write('y' * 300_000)"
    result = shell.run([sys.executable, "-c", program], cwd=tmp_path, timeout_s=30, poll_s=0.05)
    assert result.ok
    assert (len(result.stdout), len(result.stderr)) == (1_000_000, 300_000)


def test_undecodable_output_is_replaced(tmp_path: Path) -> None:
    program = "import sys; sys.stdout.buffer.write(b'a\\xffb')"
    result = shell.run([sys.executable, "-c", program], cwd=tmp_path, timeout_s=30)
    assert result.stdout == "a\ufffdb"


def test_timeout_kills_the_program_and_its_grandchild(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    started = time.monotonic()
    result = shell.run(
        ["sh", "-c", _SPAWNS_GRANDCHILD, "sh", str(pid_file)],
        cwd=tmp_path,
        timeout_s=0.5,
        poll_s=0.05,
    )
    assert time.monotonic() - started < 5
    assert result.timed_out
    assert not result.stopped
    assert not result.ok
    assert result.returncode != 0
    assert _wait_dead(_read_pid(pid_file))


def test_should_stop_kills_the_program_and_its_grandchild(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    result = shell.run(
        ["sh", "-c", _SPAWNS_GRANDCHILD, "sh", str(pid_file)],
        cwd=tmp_path,
        timeout_s=30,
        # Once the pid is written: the file exists (the shell's redirect) a moment before.
        should_stop=lambda: _has_pid(pid_file),
        poll_s=0.05,
    )
    assert result.stopped
    assert not result.timed_out
    assert not result.ok
    assert _wait_dead(_read_pid(pid_file))


def test_an_interrupt_still_kills_the_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"

    def interrupt() -> bool:
        if pid_file.exists() and pid_file.read_text().endswith("\n"):
            raise KeyboardInterrupt
        return False

    with pytest.raises(KeyboardInterrupt):
        shell.run(
            ["sh", "-c", _SPAWNS_GRANDCHILD, "sh", str(pid_file)],
            cwd=tmp_path,
            timeout_s=30,
            should_stop=interrupt,
            poll_s=0.05,
        )
    assert _wait_dead(_read_pid(pid_file))


def test_a_missing_program_gives_127(tmp_path: Path) -> None:
    result = shell.run(["ctw-no-such-program-xyz", "--help"], cwd=tmp_path, timeout_s=10)
    assert result.returncode == 127
    assert result.stderr == "program not found: ctw-no-such-program-xyz"
    assert not result.ok


def test_a_missing_working_directory_gives_127(tmp_path: Path) -> None:
    result = shell.run(["true"], cwd=tmp_path / "missing", timeout_s=10)
    assert result.returncode == 127
    assert "working directory" in result.stderr


def test_empty_argv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty argv"):
        shell.run([], cwd=tmp_path, timeout_s=10)


def test_the_environment_is_allow_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTW_X", "secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    result = shell.run(["env"], cwd=tmp_path, timeout_s=10)
    names = {line.split("=", 1)[0] for line in result.stdout.splitlines()}
    assert "PATH" in names
    assert "GIT_CONFIG_NOSYSTEM" in names
    assert "CTW_X" not in names
    assert "AWS_SECRET_ACCESS_KEY" not in names
    assert "secret" not in result.stdout


def test_base_env_adds_extra_but_never_ctw(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTW_X", "1")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    env = shell.base_env({"GIT_TERMINAL_PROMPT": "0"})
    assert env["PATH"] == "/usr/bin:/bin"
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert not any(name.startswith("CTW_") for name in env)
    with pytest.raises(ValueError, match="CTW_"):
        shell.base_env({"CTW_Y": "1"})


def test_an_explicit_env_is_used_as_given(tmp_path: Path) -> None:
    result = shell.run(["/usr/bin/env"], cwd=tmp_path, timeout_s=10, env={"ONLY": "this"})
    assert result.stdout == "ONLY=this\n"


@pytest.mark.parametrize(
    "argument",
    ["$(touch pwned)", "`touch pwned`", "; touch pwned", "&& touch pwned", "'\"", "a\nb | c"],
)
def test_arguments_are_passed_literally(tmp_path: Path, argument: str) -> None:
    result = shell.run(["printf", "%s", argument], cwd=tmp_path, timeout_s=10)
    assert result.ok
    assert result.stdout == argument
    assert not (tmp_path / "pwned").exists()
    assert list(tmp_path.iterdir()) == []


def test_tail_keeps_the_end() -> None:
    result = CommandResult(
        argv=("x",),
        returncode=0,
        stdout="\n".join(f"line {n}" for n in range(100)),
        stderr="abcdef",
        duration_s=0.0,
    )
    assert result.tail(lines=2) == "line 98\nline 99"
    assert result.tail(lines=2, chars=4) == "e 99"
    assert result.tail("stderr", chars=3) == "def"
    assert result.tail(lines=0) == ""


@pytest.mark.parametrize("redirect", ["", ">/dev/null 2>&1"], ids=["piped", "detached"])
def test_leftovers_of_a_finished_program_are_killed(tmp_path: Path, redirect: str) -> None:
    pid_file = tmp_path / "grandchild.pid"
    started = time.monotonic()
    program = f'sleep 60 {redirect} & echo $! > "$1"; echo done'
    result = shell.run(
        ["sh", "-c", program, "sh", str(pid_file)],
        cwd=tmp_path,
        timeout_s=30,
        poll_s=0.05,
    )
    assert time.monotonic() - started < 5
    assert result.ok
    assert result.stdout == "done\n"
    assert _wait_dead(_read_pid(pid_file))


def test_a_program_that_closes_its_pipes_and_ignores_sigterm_still_has_its_time_limit(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    result = shell.run(
        ["sh", "-c", "trap '' TERM; exec >/dev/null 2>&1 </dev/null; sleep 60"],
        cwd=tmp_path,
        timeout_s=0.5,
        poll_s=0.05,
    )
    assert result.timed_out
    assert time.monotonic() - started < 10
