"""A target's environment recipe: what to install so its tests run, read from its own files.

The tests of a project nobody here wrote import its dependencies and often files its build
generates (a setuptools-scm ``_version.py``): they run in an environment built for the project,
never in the worker's interpreter. A :class:`Recipe` says how that environment is built; it is
detected from the repository at the session's base commit (:func:`detect`) and a project's
``environment`` setting overrides any part of it (:func:`with_setting`).

Python
    A virtual environment with the project itself installed (so build-generated files and its
    metadata exist), its test extras (``tests``, ``test`` or ``testing``; else ``dev``) or
    PEP 735 dependency groups of those names, else its test requirement files, plus pytest,
    pytest-randomly and coverage.py. A repository with no packaging metadata gets its
    requirement files and those three.
Elixir
    ``mix deps.get`` then ``MIX_ENV=test mix compile``, the dependencies kept outside the
    workspace so every run of the project on a host shares them.

An environment is identified by its :func:`key`: the project, the recipe, the content of the
files the recipe reads (at the base commit) and the interpreter. A key that changes is a new
environment; the old one is removed once nothing uses it.
"""

from __future__ import annotations

import configparser
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from ctworkflow import errors
from ctworkflow.domain.repository.config_files import parse_cfg, parse_toml
from ctworkflow.domain.repository.layouts import Layout

__all__ = [
    "PYTHON_FILES",
    "Environment",
    "Installer",
    "Recipe",
    "detect",
    "group_requirements",
    "key",
]


class Installer(StrEnum):
    """The tool that builds an environment."""

    AUTO = "auto"  # uv where it is installed, else pip
    UV = "uv"
    PIP = "pip"
    MIX = "mix"
    #: Nothing is built: runs use the worker's own interpreter and what is installed there
    #: (a worker image made for the project). Only ever set by the project.
    NONE = "none"


#: Names of the extras and dependency groups that hold a project's test dependencies, best
#: first; ``dev`` only when none of the others exists (it often pulls linters and docs tools).
TEST_EXTRAS: Final = ("tests", "test", "testing")
DEV_EXTRAS: Final = ("dev", "develop", "development")
#: Requirement files of tests and development, best first.
TEST_REQUIREMENTS: Final = (
    "requirements-test.txt",
    "requirements-tests.txt",
    "requirements_test.txt",
    "test-requirements.txt",
    "test_requirements.txt",
    "requirements/test.txt",
    "requirements/tests.txt",
    "requirements/testing.txt",
    "tests/requirements.txt",
    "requirements-dev.txt",
    "requirements_dev.txt",
    "dev-requirements.txt",
    "requirements/dev.txt",
)
#: The files a Python recipe is detected from (and whose content is part of its key).
PYTHON_FILES: Final = ("pyproject.toml", "setup.cfg", "setup.py", "requirements.txt")
MIX_FILES: Final = ("mix.exs", "mix.lock")
#: What every Python environment gets besides the project's own: pytest; pytest-randomly
#: for the runs in random order that find flaky tests (:mod:`ctworkflow.domain.flakiness`;
#: every other run turns it off, so the tests keep their order there); coverage.py for the
#: test-quality measurements (docs/test-quality.md).
DEFAULT_PACKAGES: Final = ("pytest", "pytest-randomly", "coverage")


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipe:
    """How a project's environment is built."""

    installer: Installer
    #: Install the project itself (Python), with ``extras``.
    install_project: bool = False
    extras: tuple[str, ...] = ()
    #: PEP 735 dependency groups of ``pyproject.toml`` whose requirements are installed.
    groups: tuple[str, ...] = ()
    #: Requirement files (paths in the repository) installed with ``-r``.
    requirements: tuple[str, ...] = ()
    #: Requirement specifiers installed as well.
    packages: tuple[str, ...] = ()
    #: What the recipe was decided from, for people: "pyproject.toml [project], extra tests".
    source: str = field(default="", compare=False)

    @property
    def files(self) -> tuple[str, ...]:
        """The repository files the build reads: their content is part of the key."""
        if self.installer is Installer.MIX:
            return MIX_FILES
        if self.installer is Installer.NONE:
            return ()
        return tuple(dict.fromkeys((*PYTHON_FILES, *self.requirements)))

    def describe(self) -> str:
        """One line for the session's history and the CLI."""
        if self.installer is Installer.MIX:
            return "mix deps.get, then MIX_ENV=test mix compile"
        if self.installer is Installer.NONE:
            return "none: the worker's own interpreter"
        parts = []
        if self.install_project:
            extras = f"[{','.join(self.extras)}]" if self.extras else ""
            parts.append(f"the project{extras}")
        parts += [f"group {g}" for g in self.groups]
        parts += [f"-r {r}" for r in self.requirements]
        parts += list(self.packages)
        return f"{self.installer.value}: " + ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "installer": self.installer.value,
            "install_project": self.install_project,
            "extras": list(self.extras),
            "groups": list(self.groups),
            "requirements": list(self.requirements),
            "packages": list(self.packages),
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Recipe:
        return cls(
            installer=Installer(data["installer"]),
            install_project=bool(data.get("install_project", False)),
            extras=tuple(data.get("extras", ())),
            groups=tuple(data.get("groups", ())),
            requirements=tuple(data.get("requirements", ())),
            packages=tuple(data.get("packages", ())),
            source=str(data.get("source", "")),
        )


def detect(layout: Layout, files: Mapping[str, str]) -> Recipe:
    """The recipe a repository's own files call for; ``files`` maps the paths of
    :data:`PYTHON_FILES` and :data:`TEST_REQUIREMENTS` that exist to their content.

    Raises:
        InvalidLayout: a configuration file does not parse.
    """
    if layout is not Layout.PYTHON:
        return Recipe(installer=Installer.MIX, source="mix.exs")
    pyproject = _toml(files.get("pyproject.toml"))
    project = pyproject.get("project") if isinstance(pyproject.get("project"), dict) else None
    setup_cfg = _cfg(files.get("setup.cfg"))
    installable = project is not None or "setup.py" in files or setup_cfg.has_section("metadata")
    extras = _available_extras(project, setup_cfg)
    groups = pyproject.get("dependency-groups")
    group_names = list(groups) if isinstance(groups, dict) else []
    chosen_extras = _choose(extras) if installable else ()
    chosen_groups = _choose(group_names)
    requirements: tuple[str, ...] = ()
    if not chosen_extras and not chosen_groups:
        wanted = next((r for r in TEST_REQUIREMENTS if r in files), None)
        requirements = (wanted,) if wanted else ()
    if not installable and "requirements.txt" in files:
        requirements = ("requirements.txt", *requirements)
    why = []
    if installable:
        metadata = "pyproject.toml [project]" if project is not None else "setup.py/setup.cfg"
        why.append(metadata + "".join(f", extra {e}" for e in chosen_extras))
    why += [f"dependency group {g}" for g in chosen_groups]
    why += list(requirements)
    return Recipe(
        installer=Installer.AUTO,
        install_project=installable,
        extras=chosen_extras,
        groups=chosen_groups,
        requirements=requirements,
        packages=DEFAULT_PACKAGES,
        source="; ".join(why) or "no packaging metadata: pytest, pytest-randomly and coverage only",
    )


def _available_extras(
    project: Mapping[str, Any] | None, setup_cfg: configparser.ConfigParser
) -> list[str]:
    if project is not None:
        optional = project.get("optional-dependencies")
        return list(optional) if isinstance(optional, dict) else []
    if setup_cfg.has_section("options.extras_require"):
        return list(setup_cfg["options.extras_require"])
    return []


def _choose(names: Sequence[str]) -> tuple[str, ...]:
    """The test extra (or group) among ``names``, else the development one, else none."""
    for candidates in (TEST_EXTRAS, DEV_EXTRAS):
        for candidate in candidates:
            if candidate in names:
                return (candidate,)
    return ()


def _toml(text: str | None) -> dict[str, Any]:
    return parse_toml(text, "pyproject.toml")


def _cfg(text: str | None) -> configparser.ConfigParser:
    return parse_cfg(text, "setup.cfg")


def group_requirements(pyproject_text: str | None, groups: Sequence[str]) -> tuple[str, ...]:
    """The requirement specifiers of PEP 735 dependency ``groups``, includes followed.

    Raises:
        InvalidLayout: a group is not there, or includes itself.
    """
    table = _toml(pyproject_text).get("dependency-groups")
    table = table if isinstance(table, dict) else {}
    found: list[str] = []

    def expand(name: str, seen: tuple[str, ...]) -> None:
        if name in seen:
            raise errors.InvalidLayout(f"dependency group {name} includes itself")
        entries = table.get(name)
        if not isinstance(entries, list):
            raise errors.InvalidLayout(f"pyproject.toml has no dependency group {name}")
        for entry in entries:
            if isinstance(entry, str):
                found.append(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("include-group"), str):
                expand(entry["include-group"], (*seen, name))

    for group in groups:
        expand(group, ())
    return tuple(dict.fromkeys(found))


def key(
    project_id: str, recipe: Recipe, contents: Mapping[str, str | None], interpreter: str
) -> str:
    """The name of the environment ``recipe`` builds for a project, from what it reads:
    ``<project id>-<16 hex digits>``."""
    document = {
        "recipe": {k: v for k, v in recipe.to_json().items() if k != "source"},
        "files": {path: contents.get(path) for path in recipe.files},
        "interpreter": interpreter,
    }
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    return f"{project_id}-{digest[:16]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Environment:
    """A built environment on this host, as a run uses it."""

    key: str
    #: Its folder: a run must be able to read it.
    root: str
    #: Variables a run inside it gets (``PATH`` with its programs first, ``VIRTUAL_ENV``,
    #: ``MIX_DEPS_PATH``...).
    variables: Mapping[str, str] = field(default_factory=dict)
    #: Its Python interpreter (Python environments).
    python: str | None = None
    #: Files the project's build generates that a checkout lacks (git ignores them): repository
    #: path → the built copy, put into a workspace before its code runs.
    generated: Mapping[str, str] = field(default_factory=dict)
    #: Folders of the checkout put first on the import path (``src`` for a src layout), so the
    #: code a run imports is the checkout's, not the copy installed when the environment was
    #: built (set by the session, which knows the layout).
    python_path: tuple[str, ...] = ()

    def import_path(self, workspace: Path) -> list[str]:
        """:attr:`python_path` as folders of ``workspace``, in order."""
        return [str(workspace / folder) for folder in self.python_path]
