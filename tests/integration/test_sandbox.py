"""The sandbox holds against hostile code: real bubblewrap, real processes, no servers needed.

Each containment is shown twice: once under ``CTW_SANDBOX=none``, where the hostile code gets
through (so the probe really probes), and once under the default sandbox, where it does not.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctworkflow.config import get_settings
from ctworkflow.effects import sandbox, shell
from ctworkflow.runners.pytest_runner import PytestRunner
from tests.sandbox_support import gone_within, new_marker, processes_with

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-pa55word"
DATABASE_URL = f"postgresql+psycopg://ctw:{PASSWORD}@db.internal:5432/ctw"

# The target repository's own conftest.py: it runs inside our pytest runner, and tries what
# hostile test code would. It reports in the workspace (which the run may write).
CONFTEST = """
import json
import os
import socket
from pathlib import Path

found = {{"environ": False, "worker_seen": False, "wrote_outside": False, "connected": False}}
for entry in Path("/proc").iterdir():
    if not entry.name.isdigit():
        continue
    try:
        found["environ"] |= b{password!r} in (entry / "environ").read_bytes()
    except OSError:
        pass
    try:
        found["worker_seen"] |= b{marker!r} in (entry / "cmdline").read_bytes()
    except OSError:
        pass
try:
    found["parent_environ"] = open(f"/proc/{{os.getppid()}}/environ", "rb").read().decode(
        errors="replace"
    )
except OSError as error:
    found["parent_environ"] = str(error)
try:
    Path({canary!r}).write_text("overwritten by test code")
    found["wrote_outside"] = True
except OSError:
    pass
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
    found["connected"] = True
except OSError:
    pass
found["pids"] = sorted(int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit())
Path("probe.json").write_text(json.dumps(found))
"""

TEST_FILE = "def test_nothing_to_see() -> None:\n    assert True\n"

# The "worker": a process started with the database URL in its environment, as a real worker
# is, which runs our pytest runner on the workspace.
WORKER = """
import sys
from pathlib import Path
from ctworkflow.runners.pytest_runner import PytestRunner

reports = PytestRunner().run(Path(sys.argv[1]), ["tests/test_probe.py"], timeout_s=120)
print(reports["tests/test_probe.py"].passed)
"""


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP listener of ours on loopback that test code must not reach."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


@pytest.mark.parametrize("mode", ["none", "bubblewrap"])
def test_test_code_cannot_read_the_worker_or_write_outside_or_reach_the_network(
    mode: str, tmp_path: Path, listener: socket.socket
) -> None:
    marker = new_marker()
    canary = tmp_path / "outside" / "canary.txt"
    canary.parent.mkdir()
    canary.write_text("original")
    workspace = tmp_path / "repo"
    (workspace / "tests").mkdir(parents=True)
    port = listener.getsockname()[1]
    conftest = CONFTEST.format(password=PASSWORD, marker=marker, canary=str(canary), port=port)
    (workspace / "conftest.py").write_text(conftest)
    (workspace / "tests" / "test_probe.py").write_text(TEST_FILE)
    env = {
        **os.environ,
        "CTW_DATABASE_URL": DATABASE_URL,
        "CTW_SANDBOX": mode,
        "PYTHONPATH": str(ROOT),
    }

    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(workspace), marker],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1", done.stdout  # the test ran and passed
    found = json.loads((workspace / "probe.json").read_text())
    if mode == "none":  # the probe works: without the sandbox, all of it gets through
        assert found["environ"] and found["worker_seen"], found
        assert found["wrote_outside"] and found["connected"], found
        assert canary.read_text() == "overwritten by test code"
        return
    assert not found["environ"], "test code read the worker's database password"
    assert PASSWORD not in found["parent_environ"]
    assert not found["worker_seen"], "test code saw the worker's processes"
    assert max(found["pids"]) < 100, found["pids"]  # its own PID namespace only
    assert not found["connected"], "test code reached a listener on the worker's loopback"
    assert canary.read_text() == "original"


# A run whose program leaves a grandchild behind that left its process group and session.
ESCAPER = textwrap.dedent(
    """
    import os, sys, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)",
                                      sys.argv[1]])
        os._exit(0)
    time.sleep(0.3)
    """
)


@pytest.mark.parametrize("mode", ["none", "bubblewrap"])
def test_a_setsid_grandchild_dies_with_its_run(
    mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTW_SANDBOX", mode)
    get_settings.cache_clear()
    marker = new_marker()

    result = shell.run(
        [sys.executable, "-c", ESCAPER, marker],
        cwd=tmp_path,
        timeout_s=60,
        policy=sandbox.for_tests(tmp_path),
    )

    assert result.ok, result.stderr
    if mode == "none":  # without the sandbox it escapes the process-group kill
        survivors = processes_with(marker)
        assert survivors, "the escaper did not escape: the probe proves nothing"
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)
        return
    # A generous deadline: the PID namespace is torn down before the run returns.
    assert gone_within(marker, 5.0), processes_with(marker)


def test_the_host_is_read_only_and_the_workspace_writable(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    # A folder of the host every Debian machine has, outside /tmp (private in the sandbox).
    outside = Path("/var/tmp") / f"ctw-sandbox-probe-{os.getpid()}"
    program = (
        "import pathlib, sys\n"
        "pathlib.Path('inside.txt').write_text('ok')\n"
        "try:\n"
        f"    pathlib.Path({str(outside)!r}).write_text('escaped')\n"
        "except OSError as error:\n"
        "    print(error.strerror)\n"
    )

    result = shell.run(
        [sys.executable, "-c", program],
        cwd=workspace,
        timeout_s=60,
        policy=sandbox.for_tests(workspace),
    )

    assert result.ok, result.stderr
    assert (workspace / "inside.txt").read_text() == "ok"
    assert not outside.exists()
    assert result.stdout.strip() == "Read-only file system"


def test_ctworkflow_data_and_credentials_are_hidden_even_inside_an_agent_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "ctw-data"
    (data / "secret.sqlite3").parent.mkdir(parents=True, exist_ok=True)
    (data / "secret.sqlite3").write_text("every tenant's rows")
    home = tmp_path / "home"  # inside the agent folder, as with CTW_SANDBOX_AGENT_PATHS=["~"]
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE KEY")
    (home / ".netrc").write_text("machine git.example.com password hunter2")
    monkeypatch.setenv("HOME", str(home))
    workspace = data / "workspaces" / "worktrees" / "slot0"
    workspace.mkdir(parents=True)
    get_settings.cache_clear()  # the agent folder: the whole tmp_path (see tests/conftest.py)
    program = (
        "import pathlib, sys\n"
        "for path in sys.argv[1:]:\n"
        "    p = pathlib.Path(path)\n"
        "    print(path, p.read_text() if p.is_file() else 'hidden')\n"
    )
    paths = [str(data / "secret.sqlite3"), str(home / ".ssh" / "id_ed25519"), str(home / ".netrc")]

    result = shell.run(
        [sys.executable, "-c", program, *paths],
        cwd=workspace,
        timeout_s=60,
        policy=sandbox.for_agent(workspace),
    )

    assert result.ok, result.stderr
    assert "every tenant's rows" not in result.stdout
    assert "PRIVATE KEY" not in result.stdout
    assert "hunter2" not in result.stdout
    (home / "agent-state").mkdir()
    wrote = shell.run(
        ["sh", "-c", f"echo kept > {home / 'agent-state' / 'log'}"],
        cwd=workspace,
        timeout_s=60,
        policy=sandbox.for_agent(workspace),
    )
    assert wrote.ok, wrote.stderr  # the agent folder itself is writable
    assert (home / "agent-state" / "log").read_text() == "kept\n"


def test_cpu_and_file_size_limits_stop_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTW_SANDBOX_FILE_SIZE_BYTES", str(1 << 20))
    monkeypatch.setenv("CTW_SANDBOX_CPU_S", "1")
    get_settings.cache_clear()
    policy = sandbox.for_tests(tmp_path)
    writer = "open('big', 'wb').write(b'x' * (2 << 20))"
    spinner = "while True: pass"

    wrote = shell.run([sys.executable, "-c", writer], cwd=tmp_path, timeout_s=60, policy=policy)
    spun = shell.run([sys.executable, "-c", spinner], cwd=tmp_path, timeout_s=60, policy=policy)

    assert not wrote.ok and (tmp_path / "big").stat().st_size <= 1 << 20
    assert not spun.ok and not spun.timed_out and spun.duration_s < 30


def test_an_agent_that_prints_without_end_is_stopped_at_the_output_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTW_MAX_OUTPUT_BYTES", str(64 * 1024))
    get_settings.cache_clear()

    result = shell.run(
        [sys.executable, "-c", "import sys\nwhile True: sys.stdout.write('y' * 4096)"],
        cwd=tmp_path,
        timeout_s=60,
        policy=sandbox.for_agent(tmp_path),
    )

    assert result.exceeded == "stdout"
    assert not result.ok and not result.timed_out
    assert len(result.stdout) == 64 * 1024


def test_a_test_run_that_prints_without_end_fails_naming_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTW_MAX_OUTPUT_BYTES", str(256 * 1024))
    get_settings.cache_clear()
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "def test_chatty(capsys) -> None:\n"
        "    with capsys.disabled():\n"
        "        while True:\n"
        "            print('z' * 65536)\n"
    )

    reports = PytestRunner().run(tmp_path, ["tests/test_x.py"], timeout_s=120)

    report = reports["tests/test_x.py"]
    assert not report.all_passed and report.errors == 1
    assert report.output_tail.startswith(
        "pytest printed more than 256 KiB on stdout (CTW_MAX_OUTPUT_BYTES)"
    )
