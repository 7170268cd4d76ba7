"""A package's own code (its ``__init__.py``) is a component of its context, and a project
with no tests yet gets its test files where its test command collects them, never inside the
source root."""

from __future__ import annotations

import pytest

from ctworkflow.domain.repository import discovery, layout_detection, layout_profile, python_scan
from ctworkflow.domain.repository.layouts import Layout, import_name
from ctworkflow.domain.repository.repository_tree import RepositoryTree

SRC_FILES = (
    "pyproject.toml",
    "src/cache/__init__.py",
    "src/cache/keys.py",
    "src/cache/func.py",
    "src/cache/store/__init__.py",
    "src/cache/store/disk.py",
)
PYPROJECT = '[project]\nname = "cache"\n'
INIT_WITH_CODE = "def cached(func):\nclass Cache:\n"


def scanned(
    files: tuple[str, ...], configs: dict[str, str], own_code: dict[str, str]
) -> tuple[layout_profile.LayoutProfile, discovery.Scan]:
    tree = RepositoryTree.of(files)
    profile = layout_detection.detect(Layout.PYTHON, tree, configs, {})
    return profile, discovery.scan(profile, tree, own_code)


def found(scan: discovery.Scan) -> dict[str, tuple[str, str, str | None]]:
    return {f.module_name: (f.type, f.path, f.test_path) for f in scan.found}


def test_an_init_that_defines_functions_and_classes_is_a_component_of_its_context() -> None:
    _, scan = scanned(
        SRC_FILES, {"pyproject.toml": PYPROJECT}, {"src/cache/__init__.py": INIT_WITH_CODE}
    )

    components = found(scan)
    assert components["cache.__init__"] == (
        "module",
        "src/cache/__init__.py",
        "tests/test_cache.py",
    )
    own = next(f for f in scan.found if f.module_name == "cache.__init__")
    assert own.parent_module == "cache" and own.name == "cache"
    # the package stays a context, with its modules; a subpackage whose __init__ only
    # re-exports is no component of its own
    assert components["cache"][0] == "context"
    assert components["cache.keys"] == ("module", "src/cache/keys.py", "tests/test_keys.py")
    assert "cache.store.__init__" not in components
    assert components["cache.store.disk"][2] == "tests/store/test_disk.py"


def test_a_package_with_only_its_own_code_is_a_context_of_one_component() -> None:
    files = ("pyproject.toml", "src/tiny/__init__.py")
    _, scan = scanned(files, {"pyproject.toml": PYPROJECT}, {"src/tiny/__init__.py": "def f():"})

    assert found(scan) == {
        "tiny": ("context", "src/tiny/__init__.py", None),
        "tiny.__init__": ("module", "src/tiny/__init__.py", "tests/test_tiny.py"),
    }


def test_a_subpackages_own_code_is_tested_where_a_module_of_its_name_would_be() -> None:
    _, scan = scanned(
        SRC_FILES,
        {"pyproject.toml": PYPROJECT},
        {"src/cache/store/__init__.py": "class Store:"},
    )

    assert found(scan)["cache.store.__init__"] == (
        "module",
        "src/cache/store/__init__.py",
        "tests/test_store.py",
    )
    assert import_name("cache.store.__init__") == "cache.store"
    assert import_name("cache.store") == "cache.store"


def test_the_candidates_are_the_packages_init_files() -> None:
    tree = RepositoryTree.of(SRC_FILES)
    profile = layout_detection.detect(Layout.PYTHON, tree, {"pyproject.toml": PYPROJECT}, {})

    assert python_scan.own_code_candidates(profile, tree) == [
        "src/cache/__init__.py",
        "src/cache/store/__init__.py",
    ]


@pytest.mark.parametrize(
    ("line", "holds_code"),
    [
        ("def cached(func):", True),
        ("async def fetch():", True),
        ("class Cache(dict):", True),
        ("def _private():", False),
        ("    def method(self):", False),
        ("from .keys import hashkey", False),
        ("__all__ = ['Cache']", False),
    ],
)
def test_only_public_top_level_definitions_count_as_own_code(line: str, holds_code: bool) -> None:
    import re

    # git grep -E's [[:space:]] is Python's \s
    pattern = python_scan.OWN_CODE_LINE.replace("[[:space:]]", r"\s")
    assert (re.search(pattern, line) is not None) is holds_code


@pytest.mark.parametrize(
    "pytest_config",
    [
        '[tool.pytest.ini_options]\ntestpaths = ["src"]\n',
        '[tool.pytest.ini_options]\ntestpaths = ["src", "tests"]\n',
        "",
    ],
)
def test_a_src_layout_with_no_tests_gets_them_under_tests_never_in_the_source_root(
    pytest_config: str,
) -> None:
    profile, scan = scanned(SRC_FILES, {"pyproject.toml": PYPROJECT + pytest_config}, {})

    assert profile.tests_root == "tests"
    for item in scan.found:
        if item.test_path is not None:
            assert item.test_path.startswith("tests/"), item
    assert found(scan)["cache.func"][2] == "tests/test_func.py"
