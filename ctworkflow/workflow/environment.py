"""The target's environment in a step: its recipe, decided at Initialize, and the environment
every run of the session uses (built on this host first if it has none).

Initialize detects the recipe from the base commit (and the project's ``environment``
setting), builds the environment there and records both; component runs and validation use the
recipe the session recorded, so every host builds the same environment for the same session.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ctworkflow import errors
from ctworkflow.domain import network
from ctworkflow.domain.model import Project
from ctworkflow.domain.repository import environment_settings, environments
from ctworkflow.domain.repository.environments import Environment, Installer, Recipe
from ctworkflow.domain.repository.layout_profile import LayoutProfile
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.effects import nofollow
from ctworkflow.effects.checkout_files import read_recipe_files
from ctworkflow.workflow.deps import Deps

#: Where a session keeps its recipe in its state.
STATE_KEY: Final = "environment"
#: A generated file larger than this is not copied (a ``_version.py`` is a few lines).
_GENERATED_MAX_BYTES: Final = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """The environment a run uses (None: the worker's own) and how it came to be here."""

    environment: Environment | None
    #: For the session's history: the recipe, the host, whether it was built now and, if so,
    #: every command with its duration, exit code and output tail.
    record: dict[str, Any]

    def agent_env(self, workspace: Path) -> dict[str, str] | None:
        """The variables an agent runs with: the environment's, the checkout's import path."""
        if self.environment is None:
            return None
        variables = dict(self.environment.variables)
        roots = self.environment.import_path(workspace)
        if roots:
            variables["PYTHONPATH"] = os.pathsep.join(roots)
        return variables


def recipe_for(project: Project, workspace: Path) -> Recipe:
    """The recipe of ``project`` as its checkout ``workspace`` calls for it.

    Raises:
        InvalidLayout: a configuration file does not parse.
        InvalidInput: the project's ``environment`` setting is wrong.
    """
    files = read_recipe_files(workspace) if project.layout is Layout.PYTHON else {}
    detected = environments.detect(project.layout, files)
    return environment_settings.with_setting(detected, project.settings.get(STATE_KEY))


def session_recipe(state: Mapping[str, Any]) -> Recipe | None:
    """The recipe a session recorded at Initialize, if it recorded one."""
    data = state.get(STATE_KEY)
    if not isinstance(data, Mapping) or "recipe" not in data:
        return None
    return Recipe.from_json(data["recipe"])


@contextmanager
def prepared(
    deps: Deps,
    project: Project,
    recipe: Recipe,
    profile: LayoutProfile | None,
    workspace: Path,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[Prepared]:
    """The environment for the checkout ``workspace`` of the base commit, held while the block
    runs; files the build generates (git ignores them) are put into the workspace first.

    Raises:
        EnvironmentUnavailable: it cannot be built, with the installer's own reason.
    """
    record: dict[str, Any] = {"recipe": recipe.describe(), "from": recipe.source}
    if recipe.installer is Installer.NONE:
        yield Prepared(environment=None, record={**record, "built": False})
        return
    packages = {n: f for n, f in (profile.packages if profile else ()) if "." not in n}
    with deps.environments.using(
        str(project.id),
        recipe,
        workspace,
        packages=packages,
        should_stop=should_stop,
        network_allow=project.settings.get(network.SETTING) or (),
    ) as build:
        environment = dataclasses.replace(
            build.environment, python_path=profile.import_roots if profile else ()
        )
        put_generated(environment, workspace)
        yield Prepared(environment=environment, record={**record, **build.to_json()})


def put_generated(environment: Environment, workspace: Path) -> None:
    """Copy the build's generated files the checkout lacks into it (never over a file)."""
    for repo_path, built in environment.generated.items():
        target = workspace / repo_path
        if target.exists() or target.is_symlink():
            continue
        try:
            content = Path(built).read_text(encoding="utf-8")
            nofollow.write_text(
                workspace, repo_path, content, max_bytes=_GENERATED_MAX_BYTES, what="built file"
            )
        except (OSError, UnicodeDecodeError, errors.UnsafeFile, errors.LimitExceeded):
            continue  # the run then says what is missing, in the target's own words
