"""What a bubblewrap sandbox sees of the host: the paths bound in, the paths hidden, git's files."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ctworkflow.effects.sandbox import Config, Policy

#: The installed ctworkflow package (its data files run inside the sandbox).
PACKAGE: Final = Path(__file__).resolve().parents[1]
#: Bound over a credential file to hide it.
EMPTY_FILE: Final = PACKAGE / "effects" / "empty"


def bwrap_options(
    cwd: Path, policy: Policy, config: Config, *, agent_paths: Sequence[Path]
) -> list[str]:
    """bubblewrap's options, in mount order: later mounts cover earlier ones.

    ``agent_paths`` are the folders an agent's run may write to (none for other runs)."""
    options = ["--die-with-parent", "--unshare-all"]  # the network too: see prepare
    options += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for path in _ours_under_tmp():
        options += _bind("--ro-bind", path, create=False)
    for path in agent_paths:
        options += _bind("--bind", path, create=False)
    # Credentials stay hidden inside an agent folder (an agent folder of ~ does not show
    # ~/.ssh) unless the folder is inside one of them: naming it is the operator's choice.
    options += _hide(config.hidden)
    for path in _named_inside(agent_paths, config.hidden):
        options += _bind("--bind", path, create=False)
    options += _expose_resolver(policy, config)
    options += _hide(config.private)
    git_file, mirror = _git_files(cwd, config.git_cache)
    for path in (*policy.readable, *((mirror,) if mirror else ())):
        options += _bind("--ro-bind", path, create=False)
    for path in dict.fromkeys((cwd, *policy.writable)):
        options += _bind("--bind", path, create=True)
    if git_file is not None:
        options += _bind("--ro-bind", git_file, create=False)
    return [*options, "--chdir", os.path.abspath(cwd)]


def _ours_under_tmp() -> list[Path]:
    """The worker's own Python installation and ctworkflow's own files (the Elixir formatter
    and parser a run loads) where the private ``/tmp`` would cover them (a checkout or virtual
    environment under ``/tmp``): runs see them read-only."""
    tmp = Path("/tmp")
    ours = (sys.prefix, sys.base_prefix, PACKAGE)
    roots = dict.fromkeys(Path(os.path.realpath(p)) for p in ours)
    return [root for root in roots if root.is_relative_to(tmp) and root != tmp]


def _hide(paths: Sequence[Path]) -> list[str]:
    """Cover each existing path: a folder with an empty tmpfs, a file with an empty file (not
    ``/dev/null``: a device node cannot be opened on bubblewrap's mounts, and a program that
    reads the file, git its ``~/.gitconfig``, would fail instead of finding it empty)."""
    options: list[str] = []
    for path in dict.fromkeys(Path(os.path.realpath(p)) for p in paths):
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        if stat.S_ISDIR(mode):
            options += ["--tmpfs", str(path)]
        else:
            options += ["--ro-bind", str(EMPTY_FILE), str(path)]
    return options


def _named_inside(paths: Sequence[Path], hidden: Sequence[Path]) -> list[Path]:
    """The ``paths`` that are, or lie inside, one of the ``hidden`` ones."""
    covered = [Path(os.path.realpath(h)) for h in hidden]
    return [
        path
        for path in paths
        if any(Path(os.path.realpath(path)).is_relative_to(h) for h in covered)
    ]


def _expose_resolver(policy: Policy, config: Config) -> list[str]:
    """With the network, DNS must work: its configuration may live under a hidden ``/run``."""
    if not policy.network:
        return []
    resolver = Path(os.path.realpath("/etc/resolv.conf"))
    hidden = [Path(os.path.realpath(p)) for p in config.hidden]
    if resolver.is_file() and any(resolver.is_relative_to(h) for h in hidden):
        return ["--ro-bind", str(resolver), str(resolver)]
    return []


def _bind(flag: str, path: Path, *, create: bool) -> list[str]:
    """Bind ``path`` onto itself; a missing one is skipped, or created if the run owns it."""
    target = os.path.abspath(path)
    if create:
        Path(target).mkdir(parents=True, exist_ok=True)
    elif not os.path.exists(target):
        return []
    return [flag, target, target]


def _git_files(cwd: Path, git_cache: Path | None) -> tuple[Path | None, Path | None]:
    """A worktree's ``.git`` file and its mirror, if the mirror is one of the git cache's.

    The ``.git`` file is bound read-only over itself, so the run cannot point the workspace
    at another repository for the runs that follow.
    """
    git_file = cwd / ".git"
    try:
        if not stat.S_ISREG(git_file.lstat().st_mode):
            return None, None
        text = git_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None, None
    if not text.startswith("gitdir: ") or git_cache is None:
        return git_file, None
    gitdir = Path(os.path.realpath(cwd / text.removeprefix("gitdir: ")))
    mirrors = Path(os.path.realpath(git_cache)) / "mirrors"
    if gitdir.parent.name != "worktrees" or not gitdir.is_relative_to(mirrors):
        return git_file, None
    return git_file, gitdir.parent.parent
