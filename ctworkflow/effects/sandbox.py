"""Contain a child program that runs code we did not write: bubblewrap, or nothing if told so.

A :class:`Policy` says what one run may do: the folders it writes (its workspace, a scratch
folder, an environment cache), the folders it reads besides the host, and whether it reaches
the network. The operator's settings say how runs are contained (``CTW_SANDBOX``) and how much
each process may use. :func:`prepare` turns an argv and its environment into the ones that run
the program so contained; :func:`ctworkflow.effects.shell.run` applies it when given a policy.

With ``bubblewrap``:

- the host is seen read-only; ctworkflow's own data (database files, the git cache with every
  other workspace), ``/run`` (the host's sockets) and well-known credential files are hidden;
- ``/tmp`` and ``/dev`` are private, and the run's own folders are writable (the workspace's
  ``.git`` file stays read-only, and its git mirror is seen read-only);
- new PID, user, IPC, UTS and network namespaces: every process of the run dies when it ends
  (``setsid()`` or not), ``/proc`` shows only the run's processes, and the run has a loopback
  of its own and nothing else; ``--die-with-parent`` ties the run to the worker process that
  started it;
- a run with the network reaches only what its allow-list names, through a filtering proxy
  bound into the sandbox (:mod:`.sandbox_network`): never the worker's broker or database,
  nor the host's loopback services unless the project names one.

With ``none`` the program runs as the worker's child, with the limits only. Limits (CPU
seconds, data segment, file size, per process) are set by ``prlimit`` (util-linux).
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from ctworkflow import errors
from ctworkflow.config import Settings, get_settings
from ctworkflow.effects import sandbox_network
from ctworkflow.effects.sandbox_network import Network

__all__ = [
    "Config",
    "Limits",
    "Policy",
    "Purpose",
    "configured",
    "for_agent",
    "for_build",
    "for_tests",
    "prepare",
]

BUBBLEWRAP: Final = "bubblewrap"
#: The installed ctworkflow package (its data files run inside the sandbox).
_PACKAGE: Final = Path(__file__).resolve().parents[1]
NONE: Final = "none"
#: An empty file of the package: bound over each hidden file.
EMPTY_FILE: Final = _PACKAGE / "effects" / "empty"
#: Files and folders of the worker's home that hold credentials: hidden from every run.
CREDENTIAL_PATHS: Final = (
    ".ssh",
    ".gnupg",
    ".netrc",
    ".git-credentials",
    ".pgpass",
    ".pypirc",
    ".npmrc",
    ".aws",
    ".azure",
    ".docker",
    ".kube",
    ".config/gh",
    ".config/gcloud",
    ".gitconfig",  # url.<token>.insteadOf, credential helpers
    ".config/git",
)
#: The host's sockets (a database's, a container engine's) live here: hidden from every run.
SOCKET_DIRS: Final = ("/run", "/var/run")
_SQLITE_PREFIXES: Final = ("sqlite:///", "sqla+sqlite:///", "db+sqlite:///")
#: The relay a run with the network starts first (:mod:`.netrelay`), run by the worker's Python.
RELAY: Final = _PACKAGE / "effects" / "netrelay.py"
#: The worker's own ways to authenticate to git remotes: never handed to a sandboxed run.
WORKER_ONLY_ENV: Final = ("SSH_AUTH_SOCK", "GIT_ASKPASS", "GIT_SSH", "GIT_SSH_COMMAND")


class Purpose(StrEnum):
    """What a run is for; an agent run may also write the operator's agent folders."""

    AGENT = "agent"
    TESTS = "tests"
    BUILD = "build"


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """What one run may do besides reading the host: write these, read these, the network
    (and then only what ``allow`` names: host, host:port or network entries)."""

    purpose: Purpose
    writable: tuple[Path, ...] = ()
    readable: tuple[Path, ...] = ()
    network: bool = False
    allow: tuple[str, ...] = ()


def for_tests(
    workspace: Path, *, scratch: Sequence[Path] = (), readable: Sequence[Path] = ()
) -> Policy:
    """A test run (or a parse of the repository's code): its workspace and scratch folders
    writable, ``readable`` (an environment built elsewhere) readable, no network."""
    return Policy(
        purpose=Purpose.TESTS,
        writable=(workspace, *scratch),
        readable=tuple(readable),
        network=False,
    )


def for_agent(
    workspace: Path,
    *,
    scratch: Sequence[Path] = (),
    readable: Sequence[Path] = (),
    network: bool = True,
    allow: Sequence[str] = (),
) -> Policy:
    """A coding agent's run: its workspace writable, the network for its model's API (what
    ``allow`` names: the project's ``network_allow`` and the agent's provider)."""
    return Policy(
        purpose=Purpose.AGENT,
        writable=(workspace, *scratch),
        readable=tuple(readable),
        network=network,
        allow=tuple(allow),
    )


def for_build(
    workspace: Path,
    environment_cache: Path,
    *,
    scratch: Sequence[Path] = (),
    readable: Sequence[Path] = (),
    allow: Sequence[str] = (),
) -> Policy:
    """An environment build: the workspace, the environment cache and ``scratch`` (the
    installers' download cache) writable, and the network: this worker's package indexes
    and what ``allow`` (the project's ``network_allow``) names."""
    return Policy(
        purpose=Purpose.BUILD,
        writable=(workspace, environment_cache, *scratch),
        readable=tuple(readable),
        network=True,
        allow=(*sandbox_network.index_hosts(), *allow),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What each process of a run may use; 0 means no limit."""

    cpu_s: int = 0
    memory_bytes: int = 0
    file_size_bytes: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """How runs are contained on this worker: the operator's settings."""

    mode: str = BUBBLEWRAP
    limits: Limits = Limits()
    #: Hidden from every run (an agent folder inside one is bound again after it).
    hidden: tuple[Path, ...] = ()
    #: ctworkflow's own data: hidden from every run, whatever else is exposed.
    private: tuple[Path, ...] = ()
    #: Folders an agent run may also write.
    agent_paths: tuple[Path, ...] = ()
    #: The git cache: a workspace's mirror is exposed read-only only from here.
    git_cache: Path | None = None
    #: Output kept per stream of a sandboxed run, in bytes; beyond it the run is stopped.
    max_output_bytes: int = 0


def from_settings(settings: Settings, home: Path | None = None) -> Config:
    """The sandbox configuration the settings describe."""
    home = home or Path.home()
    # Every project's environment is hidden too: a run is shown only its own (``readable``).
    private = [settings.data_dir, settings.workspaces, settings.environments]
    for url in (
        settings.sqlalchemy_url,
        settings.celery_broker_url,
        settings.celery_result_backend,
    ):
        for prefix in _SQLITE_PREFIXES:
            if url.startswith(prefix):
                private.append(Path(url.removeprefix(prefix).partition("?")[0]))
    return Config(
        mode=settings.sandbox,
        limits=Limits(
            cpu_s=settings.sandbox_cpu_s,
            memory_bytes=settings.sandbox_memory_bytes,
            file_size_bytes=settings.sandbox_file_size_bytes,
        ),
        hidden=(
            *(home / name for name in CREDENTIAL_PATHS),
            *(Path(d) for d in SOCKET_DIRS),
            *settings.sandbox_hidden_paths,
        ),
        private=tuple(private),
        agent_paths=settings.sandbox_agent_paths,
        git_cache=settings.workspaces,
        max_output_bytes=settings.max_output_bytes,
    )


def configured() -> Config:
    """The sandbox configuration of this worker, from its settings."""
    return from_settings(get_settings())


def prepare(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    cwd: Path,
    policy: Policy,
    config: Config,
    network: Network | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that run ``argv`` in ``cwd`` as ``policy`` and ``config`` say.

    Under bubblewrap a run reaches the network only through ``network`` (the proxy
    :func:`.sandbox_network.serving` serves for it); without one it has no network at all.

    Raises:
        SandboxUnavailable: bwrap (or prlimit, for limits under bubblewrap) is not installed.
    """
    command = list(argv)
    run_env = {name: value for name, value in env.items() if name not in WORKER_ONLY_ENV}
    if config.mode == BUBBLEWRAP:
        options = _bwrap_options(cwd, policy, config)
        if policy.network and network is not None:
            options += ["--ro-bind", str(network.folder), str(sandbox_network.INSIDE)]
            relay = [sys.executable, "-I", "-S", str(RELAY), *network.relay_arguments()]
            command = [*relay, "--", *command]
            run_env.update(network.variables())
        command = [_program("bwrap"), *options, "--", *command]
        run_env["TMPDIR"] = "/tmp"  # the private one; the worker's may be hidden
    limits = _prlimit_options(config.limits)
    if limits:
        prlimit = shutil.which("prlimit")
        if prlimit is not None:
            command = [prlimit, *limits, "--", *command]
        elif config.mode == BUBBLEWRAP:
            _program("prlimit")  # raises, naming the package
    return command, run_env


def missing_programs(config: Config) -> list[str]:
    """The programs this configuration needs that are not installed."""
    needed = ["bwrap"] if config.mode == BUBBLEWRAP else []
    if config.mode == BUBBLEWRAP and _prlimit_options(config.limits):
        needed.append("prlimit")
    return [name for name in needed if shutil.which(name) is None]


_PACKAGES: Final = {"bwrap": "bubblewrap", "prlimit": "util-linux"}


def missing_message(name: str) -> str:
    """The one line that says a program the sandbox needs is missing, and what to do."""
    package = _PACKAGES[name]
    return (
        f"CTW_SANDBOX=bubblewrap needs {name}, which is not installed: install {package} "
        f"(apt-get install {package}) or set CTW_SANDBOX=none"
    )


def _program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise errors.SandboxUnavailable(missing_message(name))
    return path


def _prlimit_options(limits: Limits) -> list[str]:
    options = []
    for flag, value in (
        ("--cpu", limits.cpu_s),
        ("--data", limits.memory_bytes),
        ("--fsize", limits.file_size_bytes),
    ):
        if value > 0:
            options.append(f"{flag}={value}")
    return options


def _bwrap_options(cwd: Path, policy: Policy, config: Config) -> list[str]:
    """bubblewrap's options, in mount order: later mounts cover earlier ones."""
    options = ["--die-with-parent", "--unshare-all"]  # the network too: see prepare
    options += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for path in _ours_under_tmp():
        options += _bind("--ro-bind", path, create=False)
    agent_paths = config.agent_paths if policy.purpose is Purpose.AGENT else ()
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
    ours = (sys.prefix, sys.base_prefix, _PACKAGE)
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
