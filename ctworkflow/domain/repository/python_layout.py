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

import fnmatch
import posixpath
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ctworkflow import errors
from ctworkflow.domain.repository import (
    layout_profile,
    layout_settings,
    pytest_config,
    python_packaging,
)
from ctworkflow.domain.repository.layout_profile import LayoutProfile, TestStyle
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.repository.pytest_config import PytestConfig
from ctworkflow.domain.repository.python_packaging import Finder, Packaging
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
#: Folder names of test packages and test folders.
TEST_FOLDERS: Final = frozenset({"tests", "test"})
#: Folders no package or test is looked for in (at any depth).
IGNORED_FOLDERS: Final = frozenset(
    {"node_modules", "__pycache__", "site-packages", "venv", ".venv", "build", "dist"}
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
    placement = _placement(tree, pytest, packages.folders)
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


def _ignored(path: str) -> bool:
    return any(part.startswith(".") or part in IGNORED_FOLDERS for part in path.split("/"))


def _package_dirs(tree: RepositoryTree) -> set[str]:
    """Folders holding an ``__init__.py`` (outside hidden and ignored folders)."""
    return {
        posixpath.dirname(f)
        for f in tree.files
        if posixpath.basename(f) == "__init__.py" and not _ignored(f)
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


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def find_packages(packaging: Packaging, tree: RepositoryTree) -> Packages:
    """The packages the build configuration names, found in the tree."""
    inits = _package_dirs(tree)
    if packaging.finder is Finder.LISTED:
        return _listed(packaging, tree, inits)
    if packaging.finder is Finder.FIND:
        found: dict[str, str] = {}
        for where in packaging.where:
            for name, folder in _below(inits, where).items():
                if _matches(name, packaging.include) and not _matches(name, packaging.exclude):
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


@dataclass(frozen=True, slots=True, kw_only=True)
class _Placement:
    style: TestStyle
    tests_root: str
    test_name: str
    package_tests_dir: str
    source: str


def test_files(tree: RepositoryTree, pytest: PytestConfig) -> list[str]:
    """The test files a bare ``pytest`` would collect in the tree."""
    return sorted(
        f
        for f in tree.files
        if f.endswith(".py")
        and _matches(posixpath.basename(f), pytest.python_files)
        and not _ignored(f)
        and pytest_config.collects(pytest, f)
    )


test_files.__test__ = False  # type: ignore[attr-defined]


def _in_package_folder(path: str, package_dirs: set[str]) -> str | None:
    """The name of the package test folder ``path`` is in (``pkg/tests/...``), if any."""
    parts = path.split("/")
    for index, part in enumerate(parts[:-1]):
        if part in TEST_FOLDERS and "/".join(parts[:index]) in package_dirs:
            return part
    return None


def _mirror_root(path: str, subpackages: set[str]) -> str | None:
    """The folder a test file mirrors a subpackage under (``tests`` of ``tests/tz/test_x.py``)."""
    parts = path.split("/")[:-1]
    for start in range(len(parts) - 1, 0, -1):
        if "/".join(parts[start:]) in subpackages:
            return "/".join(parts[:start])
    return None


def _placement(
    tree: RepositoryTree, pytest: PytestConfig, folders: Mapping[str, str]
) -> _Placement:
    files = test_files(tree, pytest)
    # Code packages only: a test package (src/tests/) is where tests are, not code.
    package_dirs = {
        folder
        for name, folder in folders.items()
        if not any(part in TEST_FOLDERS for part in name.split("."))
    }
    subpackages = {name.split(".", 1)[1].replace(".", "/") for name in folders if "." in name}
    name = _test_name(files, pytest.python_files)
    in_package = Counter(
        found for f in files if (found := _in_package_folder(f, package_dirs)) is not None
    )
    outside = [
        f
        for f in files
        if _in_package_folder(f, package_dirs) is None
        and not any(f.startswith(d + "/") for d in package_dirs)
    ]
    if in_package and sum(in_package.values()) > len(outside):
        folder = in_package.most_common(1)[0][0]
        return _Placement(
            style=TestStyle.IN_PACKAGE,
            tests_root="",
            test_name=name,
            package_tests_dir=folder,
            source=f"{sum(in_package.values())} existing test files in packages' {folder}/",
        )
    if outside:
        mirrored = Counter(r for f in outside if (r := _mirror_root(f, subpackages)) is not None)
        if mirrored:
            root = _most_common(mirrored)
            under = sum(1 for f in outside if f.startswith(f"{root}/"))
            return _Placement(
                style=TestStyle.MIRRORED,
                tests_root=root,
                test_name=name,
                package_tests_dir="tests",
                source=f"{under} existing test files mirroring the packages under {root}/",
            )
        root = _most_common(Counter(posixpath.dirname(f) for f in outside))
        count = sum(1 for f in outside if posixpath.dirname(f) == root)
        return _Placement(
            style=TestStyle.FLAT,
            tests_root=root,
            test_name=name,
            package_tests_dir="tests",
            source=f"{count} existing test files in {root or 'the repository root'}/",
        )
    # Never the source root itself (``src/`` of a src layout): pytest may collect doctests
    # there, but a test file written there would sit among the packages.
    testpaths = [
        p for p in pytest.testpaths if not any(d.startswith(p + "/") for d in package_dirs)
    ]
    if testpaths:
        first = testpaths[0]
        in_code = any(first == d or first.startswith(d + "/") for d in package_dirs)
        return _Placement(
            style=TestStyle.IN_PACKAGE if in_code else TestStyle.MIRRORED,
            tests_root="" if in_code else first,
            test_name=name,
            package_tests_dir="tests",
            source=f"pytest testpaths ({pytest.source})",
        )
    return _Placement(
        style=TestStyle.MIRRORED,
        tests_root="tests",
        test_name=name,
        package_tests_dir="tests",
        source="default: no test file yet",
    )


def _most_common(counts: Counter[str]) -> str:
    """The most frequent key; ties go to the shortest, then the first in sorted order."""
    return min(counts, key=lambda key: (-counts[key], len(key), key))


def _test_name(files: list[str], python_files: tuple[str, ...]) -> str:
    """The test file name template a new test follows (``test_{}.py`` unless told otherwise)."""
    allowed = [t for t in layout_profile.PYTHON_TEST_NAMES if _matches(t.format("x"), python_files)]
    if not allowed:
        single = [p for p in python_files if p.count("*") == 1 and p.endswith(".py")]
        if not single or not all(c.isalnum() or c in "_*." for c in single[0]):
            raise errors.InvalidLayout(
                f"pytest python_files {' '.join(python_files)} allows no test file name"
                " ctworkflow can write (test_<module>.py or <module>_test.py)"
            )
        return single[0].replace("*", "{}")
    used = Counter(
        t
        for f in files
        for t in allowed
        if fnmatch.fnmatchcase(posixpath.basename(f), t.replace("{}", "*"))
    )
    return _most_common(used) if used else allowed[0]
