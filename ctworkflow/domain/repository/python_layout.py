"""A Python repository's layout profile, detected from its configuration and its files.

Packages are found the way the project's build finds them (:mod:`python_packaging`): the
folders it names, or those found under ``where``, or setuptools' automatic discovery (every
package under ``src/`` when ``src/`` holds one, else the packages at the root except the folders
setuptools never takes: ``tests``, ``docs``, ``examples``, ...). A package is a folder with an
``__init__.py`` whose parents, up to where the search starts, are packages too; namespace
packages (no ``__init__.py``) are not found.

Tests go where the project's own ``pytest`` collects them, following the tests it already has:

1. Only test files a bare ``pytest`` would collect count: under ``testpaths`` when it is set,
   named as ``python_files`` says (default ``test_*.py``, ``*_test.py``).
2. More of them inside packages' ``tests/`` folders than outside: ``in_package``.
3. Else, test files under ``<root>/<subpackage path>/`` (``tests/parser/test_x.py`` for the
   package ``dateutil.parser``): ``mirrored`` under that root.
4. Else ``flat``, in the folder that holds the most test files.
5. No test file: ``testpaths[0]`` (``in_package`` when it is a package folder), else the
   seed's rule: ``mirrored`` under ``tests/``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ctworkflow.domain.repository import (
    layout_settings,
    pytest_config,
    python_packaging,
)
from ctworkflow.domain.repository.layout_profile import LayoutProfile
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.repository.python_files import ignored, matches
from ctworkflow.domain.repository.python_packaging import Finder, Packaging
from ctworkflow.domain.repository.python_test_placement import place_tests
from ctworkflow.domain.repository.repository_tree import RepositoryTree

#: The configuration files detection reads from the repository root.
CONFIG_FILES: Final = tuple(dict.fromkeys((*python_packaging.FILES, *pytest_config.FILES)))
#: Top-level folders setuptools' flat-layout discovery never takes for packages.
FLAT_EXCLUDED: Final = frozenset(
    {
        *("ci", "bin", "debian", "doc", "docs", "documentation", "manpages", "news"),
        *("newsfragments", "changelog", "test", "tests", "unit_test", "unit_tests"),
        *("example", "examples", "scripts", "tools", "util", "utils", "python", "build"),
        *("dist", "venv", "env", "requirements", "tasks", "fabfile", "site_scons"),
        *("benchmark", "benchmarks", "exercise", "exercises", "htmlcov"),
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Packages:
    """The packages of a commit, and where that came from (for people)."""

    folders: dict[str, str]
    source: str
    #: Why nothing was found, when nothing was.
    missing: str | None = None


def detect(
    tree: RepositoryTree, configs: Mapping[str, str], settings: Mapping[str, Any] | None = None
) -> LayoutProfile:
    """The layout profile of a Python repository at one commit.

    ``configs`` holds the texts of the root configuration files present (:data:`CONFIG_FILES`);
    ``settings`` the project's settings (``source_root``, ``tests_root``, ``test_style``,
    ``include_private`` override what is detected).

    Raises:
        InvalidLayout: a configuration file does not parse, or names a path outside the
            repository.
        InvalidInput: a layout setting is invalid.
    """
    chosen = layout_settings.check_settings(settings or {})
    packaging = python_packaging.read_packaging(configs)
    if "source_root" in chosen:
        root = chosen["source_root"]
        packaging = Packaging(
            finder=Finder.FIND,
            source=f"project setting source_root={root!r}",
            where=(root,),
            include=("*",),
            generated=packaging.generated,
        )
    packages = find_packages(packaging, tree)
    pytest = pytest_config.read_pytest_config(configs)
    placement = place_tests(tree, pytest, packages.folders)
    profile = LayoutProfile(
        layout=Layout.PYTHON,
        packages=tuple(sorted(packages.folders.items())),
        source_root=_common_root(packages.folders) if packages.folders else _root_of(packaging),
        tests_root=placement.tests_root,
        test_style=placement.style,
        test_name=placement.test_name,
        package_tests_dir=placement.package_tests_dir,
        generated=packaging.generated,
        test_file_patterns=pytest.python_files,
        packages_from=packages.missing or packages.source,
        tests_from=placement.source,
    )
    return layout_settings.with_settings(profile, chosen)


# -- packages -----------------------------------------------------------------------------


def _package_dirs(tree: RepositoryTree) -> set[str]:
    """Folders holding an ``__init__.py`` (outside hidden and ignored folders)."""
    return {
        posixpath.dirname(f)
        for f in tree.files
        if posixpath.basename(f) == "__init__.py" and not ignored(f)
    } - {""}


def _below(inits: set[str], base: str) -> dict[str, str]:
    """Packages under ``base`` (its subfolders whose ``__init__.py`` chain reaches it)."""
    found: dict[str, str] = {}
    prefix = f"{base}/" if base else ""
    for folder in inits:
        if not folder.startswith(prefix):
            continue
        parts = folder[len(prefix) :].split("/")
        chain = (prefix + "/".join(parts[:end]) for end in range(1, len(parts)))
        if all(step in inits for step in chain):
            found[".".join(parts)] = folder
    return found


def find_packages(packaging: Packaging, tree: RepositoryTree) -> Packages:
    """The packages the build configuration names, found in the tree."""
    inits = _package_dirs(tree)
    if packaging.finder is Finder.LISTED:
        return _listed(packaging, tree, inits)
    if packaging.finder is Finder.FIND:
        found: dict[str, str] = {}
        for where in packaging.where:
            for name, folder in _below(inits, where).items():
                if matches(name, packaging.include) and not matches(name, packaging.exclude):
                    found.setdefault(name, folder)
        roots = ", ".join(f"{w}/" if w else "the repository root" for w in packaging.where)
        missing = None if found else f"no package under {roots} ({packaging.source})"
        return Packages(folders=found, source=f"{packaging.source}: {roots}", missing=missing)
    in_src = _below(inits, "src")
    if in_src:
        return Packages(folders=in_src, source="src layout (setuptools automatic discovery)")
    flat = {
        name: folder
        for name, folder in _below(inits, "").items()
        if name.split(".")[0] not in FLAT_EXCLUDED
    }
    missing = None
    if not flat:
        missing = (
            "no package under src/ or at the repository root: no folder with an __init__.py"
            " (setuptools automatic discovery)"
        )
    return Packages(
        folders=flat, source="flat layout (setuptools automatic discovery)", missing=missing
    )


def _listed(packaging: Packaging, tree: RepositoryTree, inits: set[str]) -> Packages:
    found: dict[str, str] = {}
    absent: list[str] = []
    for name, folder in packaging.listed:
        candidates = [folder, posixpath.join("src", folder)] if packaging.try_src else [folder]
        where = next((c for c in candidates if c in inits), None)
        if where is None:
            absent.append(" or ".join(f"{c}/" for c in candidates))
            continue
        found[name] = where
        if packaging.walk:
            for sub, sub_folder in _below(inits, where).items():
                found.setdefault(f"{name}.{sub}", sub_folder)
    missing = None
    if not found:
        missing = f"no package at {', '.join(absent)} ({packaging.source}): no __init__.py there"
    return Packages(folders=found, source=packaging.source, missing=missing)


def _common_root(folders: Mapping[str, str]) -> str:
    tops = {posixpath.dirname(folder) for name, folder in folders.items() if "." not in name}
    return tops.pop() if len(tops) == 1 else ""


def _root_of(packaging: Packaging) -> str:
    return packaging.where[0] if packaging.finder is Finder.FIND and packaging.where else ""


# -- tests --------------------------------------------------------------------------------
