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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from ctworkflow import errors
from ctworkflow.config import Settings
from ctworkflow.domain.repository.environments import (
    Environment,
    Installer,
    Recipe,
    group_requirements,
    key,
)
from ctworkflow.effects import sandbox, shell
from ctworkflow.effects.build_failures import failure_reason
from ctworkflow.effects.build_host import (
    base_python,
    find_uv,
    installer_variables,
    interpreter_tag,
    network_config,
)
from ctworkflow.effects.build_records import Build, Step
from ctworkflow.effects.checkout_files import generated_files, read_files

__all__ = ["Environments"]

BUILD_RECORD: Final = "build.json"
#: Held shared by every run that uses an environment, for as long as it uses it.
USE_LOCK: Final = ".lock"
#: Held exclusively while an environment is looked for, built or removed.
BUILD_LOCK: Final = ".build.lock"
#: Output kept of each build command, for the history and the error.
TAIL_CHARS: Final = 2000


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
        contents = read_files(workspace, recipe.files)
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
                    generated_files(folder, workspace, packages) if recipe.install_project else {}
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
