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

import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from ctworkflow import errors
from ctworkflow.config import Settings, get_settings
from ctworkflow.effects import sandbox_network
from ctworkflow.effects.sandbox_mounts import PACKAGE, bwrap_options
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
NONE: Final = "none"
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
RELAY: Final = PACKAGE / "effects" / "netrelay.py"
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
        agent_paths = config.agent_paths if policy.purpose is Purpose.AGENT else ()
        options = bwrap_options(cwd, policy, config, agent_paths=agent_paths)
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
