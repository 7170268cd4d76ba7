"""Build the targets' environments on this host, once per key, and hand them to runs.

An environment is a folder ``<CTW_ENVIRONMENT_DIR>/<key>`` (:func:`ctworkflow.domain.
environments.key`): a virtual environment made by uv (or pip, where uv is not installed), or
the dependencies mix fetched. It is built from a checkout of the session's base commit, in the
sandbox (the network on, for the package index), under an exclusive ``flock`` on
``<key>.build.lock``, so two processes of a host never build the same one: the second waits
and then uses it. A build is complete once its ``build.json`` (what ran, for the session's
history) is written; a folder without it is a build that died, and is built again.

A run holds a shared lock on ``<key>.lock`` for as long as it uses the environment
(:meth:`Environments.using`), so any number of runs use one at once; a build removes the
project's other environments that no run holds.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ctworkflow import errors
from ctworkflow.config import Settings
from ctworkflow.domain.repository.environments import (
    PYTHON_FILES,
    TEST_REQUIREMENTS,
    Environment,
    Installer,
    Recipe,
    group_requirements,
    key,
)
from ctworkflow.effects import sandbox, shell

__all__ = ["Build", "Environments", "Step", "find_uv", "interpreter_tag", "read_recipe_files"]

BUILD_RECORD: Final = "build.json"
#: Held shared by every run that uses an environment, for as long as it uses it.
USE_LOCK: Final = ".lock"
#: Held exclusively while an environment is looked for, built or removed.
BUILD_LOCK: Final = ".build.lock"
#: Output kept of each build command, for the history and the error.
TAIL_CHARS: Final = 2000
#: The worker's variables a build also gets: how this host reaches the package index (its
#: proxy, the certificates it trusts, a mirror). Never shown in the history, which keeps argv.
BUILD_ENV_ALLOW_LIST: Final = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_DEFAULT_TIMEOUT",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_INDEX",
    "UV_NATIVE_TLS",
    "UV_SYSTEM_CERTS",
    "HEX_MIRROR",
    "HEX_CACERTS_PATH",
    *(f"{name}_PROXY" for name in ("HTTP", "HTTPS", "ALL", "NO")),
    *(f"{name}_proxy" for name in ("http", "https", "all", "no")),
)
#: Build output that says the package registry cannot be reached.
_UNREACHABLE: Final = (
    "failed to fetch",
    "could not resolve host",
    "name or service not known",
    "temporary failure in name resolution",
    "network is unreachable",
    "connection refused",
    "nxdomain",
    "econnrefused",
    "failed to connect",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One command of a build, as the history shows it."""

    argv: tuple[str, ...]
    exit_code: int
    duration_s: float
    output_tail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "argv": list(self.argv),
            "exit_code": self.exit_code,
            "duration_s": round(self.duration_s, 3),
            "output_tail": self.output_tail,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Build:
    """How an environment came to be on this host: built now, or found built."""

    environment: Environment
    recipe: Recipe
    host: str
    #: Whether this call built it (else it was there).
    built: bool
    steps: tuple[Step, ...] = ()
    generated: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.environment.key,
            "host": self.host,
            "built": self.built,
            "recipe": self.recipe.describe(),
            "steps": [s.to_json() for s in self.steps],
            "generated": list(self.generated),
        }


def interpreter_tag() -> str:
    """The worker's Python, as the environments it builds use it: ``cpython-3.11.7``."""
    version = ".".join(str(n) for n in sys.version_info[:3])
    return f"{sys.implementation.name}-{version}"


def find_uv() -> str | None:
    """uv, next to this interpreter (installed with ctworkflow) or on PATH."""
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("uv")


def base_python() -> str:
    """The interpreter virtual environments are made from: the worker's own, below any venv."""
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return str(base) if base.is_file() else sys.executable


class Environments:
    """The environments of this host, under one folder."""

    def __init__(self, settings: Settings, *, uv: Callable[[], str | None] = find_uv) -> None:
        self.settings = settings
        self.root = settings.environments
        self._uv = uv

    # -- using ---------------------------------------------------------------------------

    @contextmanager
    def using(
        self,
        project_id: str,
        recipe: Recipe,
        workspace: Path,
        *,
        packages: Mapping[str, str] | None = None,
        should_stop: Callable[[], bool] | None = None,
        network_allow: Sequence[str] = (),
    ) -> Iterator[Build]:
        """The project's environment for ``recipe`` and the checkout ``workspace`` (at the base
        commit), built first if this host has none; held (never removed) until the block ends.
        ``packages`` maps the project's top-level packages to their folders in the repository:
        the files its build generates are looked for there. The build reaches the package
        indexes and what ``network_allow`` (the project's setting) names, nothing else.

        Raises:
            EnvironmentUnavailable: it cannot be built, with the installer's own reason.
        """
        contents = _read_files(workspace, recipe.files)
        name = key(project_id, recipe, contents, interpreter_tag())
        self.root.mkdir(parents=True, exist_ok=True)
        with (
            (self.root / f"{name}{USE_LOCK}").open("a") as in_use,
            (self.root / f"{name}{BUILD_LOCK}").open("a") as building,
        ):
            fcntl.flock(building, fcntl.LOCK_EX)  # one builder per key; a pruner waits too
            try:
                build = self._found(name, recipe)
                if build is None:
                    build = self._build(
                        name, recipe, workspace, packages or {}, should_stop, tuple(network_allow)
                    )
                    self._prune(project_id, keep=name)
                fcntl.flock(in_use, fcntl.LOCK_SH)  # before the build lock goes: never pruned
            finally:
                fcntl.flock(building, fcntl.LOCK_UN)
            yield build

    def _found(self, name: str, recipe: Recipe) -> Build | None:
        folder = self.root / name
        try:
            record = json.loads((folder / BUILD_RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return Build(
            environment=_environment(name, folder, recipe, record.get("generated", {})),
            recipe=recipe,
            host=socket.gethostname(),
            built=False,
        )

    def _prune(self, project_id: str, *, keep: str) -> None:
        """Remove the project's other environments that no run holds and no one builds (their
        lock files stay: a process may have one open, and they are empty)."""
        for folder in self.root.glob(f"{project_id}-*"):
            if folder.name == keep or not folder.is_dir():
                continue
            with (
                (self.root / f"{folder.name}{USE_LOCK}").open("a") as in_use,
                (self.root / f"{folder.name}{BUILD_LOCK}").open("a") as building,
            ):
                try:
                    fcntl.flock(building, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(in_use, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a run uses it, or a process is building or finding it
                shutil.rmtree(folder, ignore_errors=True)

    # -- building ------------------------------------------------------------------------

    def _build(
        self,
        name: str,
        recipe: Recipe,
        workspace: Path,
        packages: Mapping[str, str],
        should_stop: Callable[[], bool] | None,
        allow: tuple[str, ...] = (),
    ) -> Build:
        folder = self.root / name
        shutil.rmtree(folder, ignore_errors=True)  # what a build that died left
        folder.mkdir(parents=True)
        try:
            if recipe.installer is Installer.MIX:
                steps = self._build_mix(folder, workspace, should_stop, allow)
                generated: dict[str, str] = {}
            else:
                steps = self._build_python(folder, recipe, workspace, should_stop, allow)
                generated = (
                    _generated(folder, workspace, packages) if recipe.install_project else {}
                )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        record = {"steps": [s.to_json() for s in steps], "generated": generated}
        (folder / BUILD_RECORD).write_text(json.dumps(record), encoding="utf-8")
        return Build(
            environment=_environment(name, folder, recipe, generated),
            recipe=recipe,
            host=socket.gethostname(),
            built=True,
            steps=tuple(steps),
            generated=tuple(generated),
        )

    def _python_argvs(self, folder: Path, recipe: Recipe, workspace: Path) -> list[list[str]]:
        """The commands that build a Python environment in ``folder``."""
        missing = [r for r in recipe.requirements if not (workspace / r).is_file()]
        if missing:
            raise errors.EnvironmentUnavailable(
                f"the environment recipe names {', '.join(missing)}, which the repository "
                "does not have at the base commit"
            )
        groups: tuple[str, ...] = ()
        if recipe.groups:
            pyproject = workspace / "pyproject.toml"
            text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else None
            try:
                groups = group_requirements(text, recipe.groups)
            except errors.InvalidLayout as error:
                raise errors.EnvironmentUnavailable(str(error)) from None
        wanted = [*recipe.packages, *groups]
        for requirement in recipe.requirements:
            wanted += ["-r", str(workspace / requirement)]
        if recipe.install_project:
            extras = f"[{','.join(recipe.extras)}]" if recipe.extras else ""
            wanted.append(f"{workspace}{extras}")
        python = str(folder / "bin" / "python")
        uv = self._uv() if recipe.installer in (Installer.AUTO, Installer.UV) else None
        if recipe.installer is Installer.UV and uv is None:
            raise errors.EnvironmentUnavailable(
                "the environment recipe asks for uv, which this worker does not have: "
                "install it (pip install uv) or set the installer to pip"
            )
        if uv is not None:
            return [
                [uv, "venv", "--quiet", "--python", base_python(), str(folder)],
                [uv, "pip", "install", "--quiet", "--python", python, *wanted],
            ]
        return [
            [base_python(), "-m", "venv", str(folder)],
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
        ]

    def _build_python(
        self,
        folder: Path,
        recipe: Recipe,
        workspace: Path,
        should_stop: Callable[[], bool] | None,
        allow: tuple[str, ...],
    ) -> list[Step]:
        variables = installer_variables(self.settings.environment_cache)
        return [
            self._step(argv, workspace, variables, should_stop, allow)
            for argv in self._python_argvs(folder, recipe, workspace)
        ]

    def _build_mix(
        self,
        folder: Path,
        workspace: Path,
        should_stop: Callable[[], bool] | None,
        allow: tuple[str, ...],
    ) -> list[Step]:
        mix = shutil.which("mix")
        if mix is None:
            raise errors.EnvironmentUnavailable(
                "mix is not installed on this worker: install Elixir (apt-get install elixir)"
            )
        variables = {**_mix_variables(folder), "MIX_ENV": "test"}
        return [
            self._step([mix, "deps.get"], workspace, variables, should_stop, allow),
            self._step([mix, "compile"], workspace, variables, should_stop, allow),
        ]

    def _step(
        self,
        argv: Sequence[str],
        workspace: Path,
        variables: Mapping[str, str],
        should_stop: Callable[[], bool] | None,
        allow: tuple[str, ...],
    ) -> Step:
        """Run one build command in the sandbox, reaching the package indexes and ``allow``;
        raise with its own reason if it fails."""
        result = shell.run(
            argv,
            cwd=workspace,
            timeout_s=self.settings.environment_timeout_s,
            env=shell.base_env({**network_config(), **variables}),
            should_stop=should_stop,
            policy=sandbox.for_build(
                workspace,
                self.root,
                scratch=(self.settings.environment_cache,),
                allow=allow,
            ),
        )
        output = (result.stdout + result.stderr).strip()
        step = Step(
            argv=tuple(argv),
            exit_code=result.returncode,
            duration_s=result.duration_s,
            output_tail=output[-TAIL_CHARS:],
        )
        if result.ok:
            return step
        if result.stopped:
            raise errors.EnvironmentUnavailable("the environment build was stopped")
        raise errors.EnvironmentUnavailable(failure_reason(argv, result, output))


def installer_variables(cache: Path) -> dict[str, str]:
    """What uv and pip are told in every build: the host's certificate store (as pip and git
    use it: a proxy's own CA, say), the shared download cache, and no prompt or progress bar."""
    return {
        "UV_SYSTEM_CERTS": "1",
        "UV_CACHE_DIR": str(cache / "uv"),
        "PIP_CACHE_DIR": str(cache / "pip"),
        "UV_NO_PROGRESS": "1",
        "PIP_NO_INPUT": "1",
    }


def network_config() -> dict[str, str]:
    return {name: os.environ[name] for name in BUILD_ENV_ALLOW_LIST if name in os.environ}


def failure_reason(argv: Sequence[str], result: shell.CommandResult, output: str) -> str:
    """The one line that says why a build command failed, in the installer's own words."""
    program = Path(argv[0]).name
    shown = " ".join([program, *argv[1:3]])
    if result.timed_out:
        return f"{shown} timed out after {result.duration_s:.0f} s (CTW_ENVIRONMENT_TIMEOUT_S)"
    if result.exceeded:
        return f"{shown}: {result.exceeded}"
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    said = _error_line(lines)
    said = said or f"exit status {result.returncode}"
    lowered = output.lower()
    if "could not find hex" in lowered:
        return (
            f"{shown} failed: the project's dependencies come from the Hex registry and this "
            "worker has no Hex (install it with mix local.hex, which needs builds.hex.pm)"
        )
    if any(marker in lowered for marker in _UNREACHABLE):
        return f"{shown} failed: the package registry cannot be reached ({said})"
    return f"{shown} failed: {said}"


#: The marks uv draws before the lines of its explanation (a tree, and a cross).
_TREE_MARKS: Final = "\u2570\u2500\u25b6\u2502\u00d7 "


def _error_line(lines: Sequence[str]) -> str:
    """The installer's error line, with the line after it that says why (uv: ``error: No
    solution found when resolving dependencies`` then ``cause: Because nosuchpkg was not found
    ...``, or a tree after a colon on a terminal)."""
    if not lines:
        return ""
    marked = [i for i, ln in enumerate(lines) if ln.lower().startswith(("error", "** ("))]
    mentioned = [i for i, ln in enumerate(lines) if "error" in ln.lower()]
    at = (marked or mentioned or [len(lines) - 1])[-1]
    said = lines[at]
    after = lines[at + 1].lstrip(_TREE_MARKS).strip() if at + 1 < len(lines) else ""
    if after.startswith("cause:"):  # uv without a terminal: the reason on the next line
        return f"{said.rstrip(':')}: {after.removeprefix('cause:').strip()}"
    if said.endswith(":") and after:
        return f"{said} {after}"
    return said


def _read_files(workspace: Path, paths: Sequence[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for path in paths:
        file = workspace / path
        try:
            found[path] = file.read_text(encoding="utf-8") if file.is_file() else None
        except (OSError, UnicodeDecodeError):
            found[path] = None
    return found


def read_recipe_files(workspace: Path) -> dict[str, str]:
    """The files of a checkout a Python recipe is detected from, those that exist."""
    found = _read_files(workspace, (*PYTHON_FILES, *TEST_REQUIREMENTS))
    return {path: text for path, text in found.items() if text is not None}


def _mix_variables(folder: Path) -> dict[str, str]:
    return {
        "MIX_DEPS_PATH": str(folder / "deps"),
        "MIX_HOME": str(folder / "mix"),
        "HEX_HOME": str(folder / "hex"),
    }


def _environment(
    name: str, folder: Path, recipe: Recipe, generated: Mapping[str, str]
) -> Environment:
    if recipe.installer is Installer.MIX:
        return Environment(key=name, root=str(folder), variables=_mix_variables(folder))
    bin_dir = folder / "bin"
    return Environment(
        key=name,
        root=str(folder),
        variables={
            "VIRTUAL_ENV": str(folder),
            "PATH": os.pathsep.join([str(bin_dir), shell.base_env().get("PATH", os.defpath)]),
        },
        python=str(bin_dir / "python"),
        generated=dict(generated),
    )


def _generated(folder: Path, workspace: Path, packages: Mapping[str, str]) -> dict[str, str]:
    """Files the project's build generated that git does not track and ignores in its checkout
    (``_version.py``), inside the project's top-level packages (``packages``: name → folder in
    the repository; never a dependency's file): repository path → the installed copy."""
    candidates: dict[str, str] = {}
    for site in folder.glob("lib/python*/site-packages"):
        for record in site.glob("*.dist-info/RECORD"):
            for line in record.read_text(encoding="utf-8").splitlines():
                installed = line.split(",", 1)[0]
                top, _, rest = installed.partition("/")
                if not installed.endswith(".py") or top not in packages or ".." in rest:
                    continue
                repo_path = f"{packages[top].strip('/')}/{rest}"
                if (workspace / repo_path).parent.is_dir():  # may exist: the build wrote it
                    candidates[repo_path] = str(site / installed)
    if not candidates:
        return {}
    ignored = shell.run(
        ["git", "check-ignore", "--stdin"],
        cwd=workspace,
        timeout_s=60,
        input="\n".join(candidates) + "\n",
        env=shell.base_env(),
    )
    kept = set(ignored.stdout.split())
    return {path: copy for path, copy in candidates.items() if path in kept}
