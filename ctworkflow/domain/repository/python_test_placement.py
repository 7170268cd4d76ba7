"""Where a Python repository's tests go: beside its existing test files, else pytest's testpaths."""

from __future__ import annotations

import fnmatch
import posixpath
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from ctworkflow import errors
from ctworkflow.domain.repository import (
    layout_profile,
    pytest_config,
)
from ctworkflow.domain.repository.layout_profile import TestStyle
from ctworkflow.domain.repository.pytest_config import PytestConfig
from ctworkflow.domain.repository.python_files import TEST_FOLDERS, ignored, matches
from ctworkflow.domain.repository.repository_tree import RepositoryTree


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
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
        and matches(posixpath.basename(f), pytest.python_files)
        and not ignored(f)
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


def place_tests(
    tree: RepositoryTree, pytest: PytestConfig, folders: Mapping[str, str]
) -> Placement:
    """Where the repository's tests go: its existing test files decide, else pytest's
    ``testpaths``, else a mirrored ``tests/``."""
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
        return Placement(
            style=TestStyle.IN_PACKAGE,
            tests_root="",
            test_name=name,
            package_tests_dir=folder,
            source=f"{sum(in_package.values())} existing test files in packages' {folder}/",
        )
    if outside:
        return _beside_outside_files(outside, subpackages, name)
    return _by_testpaths(pytest, package_dirs, name)


def _beside_outside_files(outside: list[str], subpackages: set[str], name: str) -> Placement:
    """Tests go where most of the existing ones outside the packages are: mirrored or flat."""
    mirrored = Counter(r for f in outside if (r := _mirror_root(f, subpackages)) is not None)
    if mirrored:
        root = _most_common(mirrored)
        under = sum(1 for f in outside if f.startswith(f"{root}/"))
        return Placement(
            style=TestStyle.MIRRORED,
            tests_root=root,
            test_name=name,
            package_tests_dir="tests",
            source=f"{under} existing test files mirroring the packages under {root}/",
        )
    root = _most_common(Counter(posixpath.dirname(f) for f in outside))
    count = sum(1 for f in outside if posixpath.dirname(f) == root)
    return Placement(
        style=TestStyle.FLAT,
        tests_root=root,
        test_name=name,
        package_tests_dir="tests",
        source=f"{count} existing test files in {root or 'the repository root'}/",
    )


def _by_testpaths(pytest: PytestConfig, package_dirs: set[str], name: str) -> Placement:
    """No test file yet: pytest's first ``testpaths``, else a mirrored ``tests/``."""
    # Never the source root itself (``src/`` of a src layout): pytest may collect doctests
    # there, but a test file written there would sit among the packages.
    testpaths = [
        p for p in pytest.testpaths if not any(d.startswith(p + "/") for d in package_dirs)
    ]
    if testpaths:
        first = testpaths[0]
        in_code = any(first == d or first.startswith(d + "/") for d in package_dirs)
        return Placement(
            style=TestStyle.IN_PACKAGE if in_code else TestStyle.MIRRORED,
            tests_root="" if in_code else first,
            test_name=name,
            package_tests_dir="tests",
            source=f"pytest testpaths ({pytest.source})",
        )
    return Placement(
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
    allowed = [t for t in layout_profile.PYTHON_TEST_NAMES if matches(t.format("x"), python_files)]
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
