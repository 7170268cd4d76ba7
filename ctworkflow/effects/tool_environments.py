"""Virtual environments of the tools a built-in agent runs (Pynguin), once per host.

A tool environment is ``<CTW_ENVIRONMENT_DIR>/tools/<name>-<interpreter>``: a virtual
environment of the worker's own Python (below its venv) with one pinned requirement, never the
worker's environment and never a target's. It is built as a target's environment is
(:mod:`ctworkflow.effects.environments`): by uv (or pip), in the sandbox with the network on
for the package index, under an exclusive ``flock``, complete once its ``build.json`` is
written; a second process waits for the first and then uses its build. It is only ever read
afterwards (a run gets it as a read-only folder of its sandbox).
"""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Final

from ctworkflow import errors
from ctworkflow.config import Settings
from ctworkflow.effects import sandbox, shell
from ctworkflow.effects.build_failures import failure_reason
from ctworkflow.effects.build_host import (
    base_python,
    find_uv,
    installer_variables,
    interpreter_tag,
    network_config,
)
from ctworkflow.effects.environments import BUILD_RECORD, TAIL_CHARS

#: The folder of the environments' root that holds the tools'.
TOOLS_DIR: Final = "tools"


class ToolEnvironments:
    """The tool environments of this host."""

    def __init__(self, settings: Settings, *, uv: Callable[[], str | None] = find_uv) -> None:
        self.settings = settings
        self.root = settings.environments / TOOLS_DIR
        self._uv = uv

    def folder(self, name: str) -> Path:
        """Where the tool ``name`` lives for this worker's interpreter."""
        return self.root / f"{name}-{interpreter_tag()}"

    def ensure(
        self, name: str, requirement: str, *, should_stop: Callable[[], bool] | None = None
    ) -> Path:
        """The folder of the environment of ``name`` (``requirement`` installed), built now if
        this host has none.

        Raises:
            EnvironmentUnavailable: it cannot be built (no release for this Python, no index),
                with the installer's own reason.
        """
        folder = self.folder(name)
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / f"{folder.name}.build.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if not (folder / BUILD_RECORD).is_file():
                    self._build(folder, requirement, should_stop)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return folder

    def _argvs(self, folder: Path, requirement: str) -> list[list[str]]:
        python = str(folder / "bin" / "python")
        uv = self._uv()
        if uv is not None:
            return [
                [uv, "venv", "--quiet", "--python", base_python(), str(folder)],
                [uv, "pip", "install", "--quiet", "--python", python, requirement],
            ]
        return [
            [base_python(), "-m", "venv", str(folder)],
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
        ]

    def _build(
        self, folder: Path, requirement: str, should_stop: Callable[[], bool] | None
    ) -> None:
        shutil.rmtree(folder, ignore_errors=True)  # what a build that died left
        folder.mkdir(parents=True)
        variables = {
            **network_config(),
            **installer_variables(self.settings.environment_cache),
        }
        steps = []
        try:
            for argv in self._argvs(folder, requirement):
                result = shell.run(
                    argv,
                    cwd=folder,
                    timeout_s=self.settings.environment_timeout_s,
                    env=shell.base_env(variables),
                    should_stop=should_stop,
                    policy=sandbox.for_build(
                        folder, self.root, scratch=(self.settings.environment_cache,)
                    ),
                )
                output = (result.stdout + result.stderr).strip()
                if not result.ok:
                    if result.stopped:
                        raise errors.EnvironmentUnavailable("the tool's build was stopped")
                    raise errors.EnvironmentUnavailable(failure_reason(argv, result, output))
                steps.append({"argv": argv, "output_tail": output[-TAIL_CHARS:]})
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        record = {"requirement": requirement, "steps": steps}
        (folder / BUILD_RECORD).write_text(json.dumps(record), encoding="utf-8")


def site_packages(folder: Path) -> list[str]:
    """The ``site-packages`` folders of the virtual environment ``folder``."""
    return [str(path) for path in sorted(folder.glob("lib/python*/site-packages"))]
