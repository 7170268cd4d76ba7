"""What a sandbox policy turns into: the bubblewrap and prlimit command lines, read as data.

That the sandbox really holds is shown by real runs in ``tests/integration/test_sandbox.py``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ctworkflow import errors
from ctworkflow.config import Settings
from ctworkflow.effects import sandbox, sandbox_mounts, sandbox_network
from ctworkflow.effects.sandbox_network import Network


def config_for(tmp_path: Path, **settings: object) -> sandbox.Config:
    values: dict[str, object] = {"data_dir": tmp_path / "data", **settings}
    return sandbox.from_settings(Settings(**values), home=tmp_path / "home")  # type: ignore[arg-type]


def mounts(argv: list[str]) -> list[tuple[str, str]]:
    """(option, target) of every mount of the bwrap command line, in order."""
    found = []
    start = next(i for i, item in enumerate(argv) if item.endswith("bwrap"))
    for i, item in enumerate(argv[start:], start):
        if item in ("--bind", "--ro-bind"):
            found.append((item, argv[i + 2]))
        elif item in ("--tmpfs", "--dev", "--proc"):
            found.append((item, argv[i + 1]))
        elif item == "--":
            break
    return found


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A git worktree in the git cache, as ``Git.workspace`` makes them."""
    mirror = tmp_path / "data" / "workspaces" / "mirrors" / "abc.git"
    root = tmp_path / "data" / "workspaces" / "worktrees" / "abc-slot0"
    source = tmp_path / "source"
    identity = ["-c", "user.name=t", "-c", "user.email=t@localhost"]
    for argv in (
        ["git", "init", "-q", str(source)],
        ["git", *identity, "-C", str(source), "commit", "-q", "--allow-empty", "-m", "base"],
        ["git", "clone", "-q", "--bare", str(source), str(mirror)],
        ["git", "-C", str(mirror), "worktree", "add", "-q", "--detach", str(root), "HEAD"],
    ):
        subprocess.run(argv, check=True, capture_output=True)
    return root


def test_a_test_run_gets_no_network_and_only_its_workspace_writable(
    tmp_path: Path, workspace: Path
) -> None:
    config = config_for(tmp_path)

    argv, env = sandbox.prepare(
        ["pytest"], {"PATH": "/bin", "SSH_AUTH_SOCK": "/run/agent"}, cwd=workspace,
        policy=sandbox.for_tests(workspace), config=config,
    )  # fmt: skip

    assert argv[-2:] == ["--", "pytest"]
    assert {"--die-with-parent", "--unshare-all"} <= set(argv)
    assert "--share-net" not in argv
    assert [target for option, target in mounts(argv) if option == "--bind"] == [str(workspace)]
    assert env == {"PATH": "/bin", "TMPDIR": "/tmp"}  # the worker's ssh agent stays its own


def test_the_data_folder_is_hidden_and_the_workspace_mounted_over_it(
    tmp_path: Path, workspace: Path
) -> None:
    argv, _ = sandbox.prepare(
        ["x"], {}, cwd=workspace, policy=sandbox.for_tests(workspace), config=config_for(tmp_path)
    )

    order = mounts(argv)
    data = order.index(("--tmpfs", str(tmp_path / "data")))
    assert order.index(("--bind", str(workspace))) > data
    mirror = tmp_path / "data" / "workspaces" / "mirrors" / "abc.git"
    assert order.index(("--ro-bind", str(mirror))) > data  # git works, read-only
    assert order[-1] == ("--ro-bind", str(workspace / ".git"))  # cannot be re-pointed


def test_a_git_file_pointing_outside_the_cache_exposes_nothing(
    tmp_path: Path, workspace: Path
) -> None:
    (workspace / ".git").write_text(f"gitdir: {tmp_path / 'home' / '.ssh'}/worktrees/x\n")

    argv, _ = sandbox.prepare(
        ["x"], {}, cwd=workspace, policy=sandbox.for_tests(workspace), config=config_for(tmp_path)
    )

    assert not [t for _, t in mounts(argv) if ".ssh" in t]


def test_an_agent_gets_the_network_and_its_folders_but_not_the_credentials_in_them(
    tmp_path: Path, workspace: Path
) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".config" / "gcloud").mkdir(parents=True)
    (home / ".netrc").write_text("machine x password y")
    config = config_for(tmp_path, sandbox_agent_paths=(home, home / ".config" / "gcloud"))

    proxy = Network(folder=tmp_path / "proxy", proxy_port=3128, forwards=())

    argv, env = sandbox.prepare(
        ["agent"],
        {},
        cwd=workspace,
        policy=sandbox.for_agent(workspace),
        config=config,
        network=proxy,
    )

    order = mounts(argv)
    # Its network is the proxy's socket, bridged by the relay: never the host's network.
    assert "--share-net" not in argv
    assert ("--ro-bind", str(sandbox_network.INSIDE)) in order
    assert argv[argv.index(str(sandbox.RELAY)) + 1 :][:3] == [
        str(sandbox_network.INSIDE / "proxy.sock"),
        "3128",
        "--",
    ]
    assert env["HTTPS_PROXY"] == "http://127.0.0.1:3128"
    assert order.index(("--tmpfs", str(home / ".ssh"))) > order.index(("--bind", str(home)))
    assert ("--ro-bind", str(home / ".netrc")) in order
    hidden_by = Path(argv[argv.index(str(home / ".netrc")) - 1])
    assert hidden_by == sandbox_mounts.EMPTY_FILE and hidden_by.stat().st_size == 0
    # Named on its own, a credential folder is the operator's choice: bound after the hiding.
    gcloud = str(home / ".config" / "gcloud")
    assert ("--bind", gcloud) in order[order.index(("--tmpfs", gcloud)) :]


def test_agent_folders_are_not_given_to_test_runs(tmp_path: Path, workspace: Path) -> None:
    (tmp_path / "agent-home").mkdir()
    config = config_for(tmp_path, sandbox_agent_paths=(tmp_path / "agent-home",))

    argv, _ = sandbox.prepare(
        ["pytest"], {}, cwd=workspace, policy=sandbox.for_tests(workspace), config=config
    )

    assert str(tmp_path / "agent-home") not in argv


def test_limits_go_through_prlimit_and_none_runs_the_program_as_is(
    tmp_path: Path, workspace: Path
) -> None:
    config = config_for(
        tmp_path, sandbox="none", sandbox_cpu_s=60, sandbox_memory_bytes=0,
        sandbox_file_size_bytes=4096,
    )  # fmt: skip

    argv, env = sandbox.prepare(
        ["pytest", "-q"], {"HOME": "/root"}, cwd=workspace,
        policy=sandbox.for_tests(workspace), config=config,
    )  # fmt: skip

    assert argv[0].endswith("prlimit")
    assert argv[1:] == ["--cpu=60", "--fsize=4096", "--", "pytest", "-q"]
    assert env == {"HOME": "/root"}


def test_a_missing_bwrap_is_one_line_naming_the_package(
    tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    config = config_for(tmp_path)

    assert sandbox.missing_programs(config) == ["bwrap", "prlimit"]
    with pytest.raises(errors.SandboxUnavailable) as raised:
        sandbox.prepare(
            ["x"], {}, cwd=workspace, policy=sandbox.for_tests(workspace), config=config
        )
    assert str(raised.value) == (
        "CTW_SANDBOX=bubblewrap needs bwrap, which is not installed: install bubblewrap "
        "(apt-get install bubblewrap) or set CTW_SANDBOX=none"
    )


def test_the_sandbox_setting_takes_only_its_two_values(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bubblewrap"):
        Settings(sandbox="docker")  # type: ignore[arg-type]
    assert Settings().sandbox == "bubblewrap"  # never none unless set


def test_our_own_code_under_tmp_stays_readable_over_the_private_tmp(
    tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given ctworkflow checked out under /tmp (tmp_path is there), as a CI clone may be
    checkout = tmp_path / "checkout" / "ctworkflow"
    checkout.mkdir(parents=True)
    monkeypatch.setattr(sandbox_mounts, "PACKAGE", checkout)

    argv, _ = sandbox.prepare(
        ["mix", "test"], {}, cwd=workspace, policy=sandbox.for_tests(workspace),
        config=config_for(tmp_path),
    )  # fmt: skip

    # Then the run sees it read-only, mounted after the private /tmp that would cover it
    found = mounts(argv)
    assert found.index(("--ro-bind", str(checkout))) > found.index(("--tmpfs", "/tmp"))
