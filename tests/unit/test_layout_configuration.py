"""Reading where packages are and where pytest collects, from each kind of configuration."""

from __future__ import annotations

import pytest

from ctworkflow import errors
from ctworkflow.domain.repository import (
    layout_detection,
    pytest_config,
    python_layout,
    python_packaging,
)
from ctworkflow.domain.repository.layout_profile import TestStyle
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.repository.repository_tree import RepositoryTree


def folders(configs: dict[str, str], files: list[str]) -> dict[str, str]:
    packaging = python_packaging.read_packaging(configs)
    return python_layout.find_packages(packaging, RepositoryTree.of(files)).folders


SRC_AND_ROOT = [
    "src/app/__init__.py",
    "src/app/core.py",
    "src/app/sub/__init__.py",
    "src/other/__init__.py",
    "lib/app/__init__.py",
    "tools/__init__.py",
    "docs/__init__.py",
    "rootpkg/__init__.py",
]


def test_setuptools_automatic_discovery_prefers_src() -> None:
    assert folders({}, SRC_AND_ROOT) == {
        "app": "src/app",
        "app.sub": "src/app/sub",
        "other": "src/other",
    }


def test_setuptools_automatic_discovery_of_a_flat_layout_skips_reserved_folders() -> None:
    flat = [p for p in SRC_AND_ROOT if not p.startswith("src/")]

    # tools/ and docs/ are never packages there; lib/app/ is not reachable (lib/ has no
    # __init__.py).
    assert folders({}, flat) == {"rootpkg": "rootpkg"}


def test_pyproject_setuptools_find_honours_where_include_and_exclude() -> None:
    pyproject = """
[build-system]
build-backend = "setuptools.build_meta"
[tool.setuptools.packages.find]
where = ["src"]
include = ["app*"]
exclude = ["app.sub"]
"""
    assert folders({"pyproject.toml": pyproject}, SRC_AND_ROOT) == {"app": "src/app"}


def test_pyproject_setuptools_packages_and_package_dir() -> None:
    pyproject = """
[tool.setuptools]
packages = ["app", "app.sub"]
package-dir = {"" = "lib"}
"""
    files = [*SRC_AND_ROOT, "lib/app/sub/__init__.py", "lib/app/extra/__init__.py"]

    # Exactly the listed packages: setuptools ships nothing else.
    assert folders({"pyproject.toml": pyproject}, files) == {
        "app": "lib/app",
        "app.sub": "lib/app/sub",
    }


def test_setup_cfg_find_with_package_dir() -> None:
    setup_cfg = """
[options]
package_dir =
    =src
packages = find:
[options.packages.find]
where = src
exclude = other
"""
    assert folders({"setup.cfg": setup_cfg}, SRC_AND_ROOT) == {
        "app": "src/app",
        "app.sub": "src/app/sub",
    }


def test_setup_py_is_read_never_run() -> None:
    setup_py = """
import os
os.system("echo pwned > /tmp/ctw-should-not-exist")
from setuptools import setup, find_packages
setup(name="x", package_dir={"": "src"}, packages=find_packages("src", exclude=["other"]))
"""
    assert folders({"setup.py": setup_py}, SRC_AND_ROOT) == {
        "app": "src/app",
        "app.sub": "src/app/sub",
    }


def test_hatch_packages_and_poetry_includes() -> None:
    hatch = """
[build-system]
build-backend = "hatchling.build"
[tool.hatch.build.targets.wheel]
packages = ["src/other"]
"""
    poetry = """
[build-system]
build-backend = "poetry.core.masonry.api"
[tool.poetry]
name = "x"
packages = [{include = "app", from = "lib"}]
"""
    assert folders({"pyproject.toml": hatch}, SRC_AND_ROOT) == {"other": "src/other"}
    assert folders({"pyproject.toml": poetry}, SRC_AND_ROOT) == {"app": "lib/app"}


def test_flit_and_hatch_default_to_the_project_name_at_the_root_or_under_src() -> None:
    flit = '[build-system]\nbuild-backend = "flit_core.buildapi"\n[project]\nname = "My-App"\n'
    files = ["src/my_app/__init__.py", "src/my_app/deep/__init__.py", "other/__init__.py"]

    assert folders({"pyproject.toml": flit}, files) == {
        "my_app": "src/my_app",
        "my_app.deep": "src/my_app/deep",
    }


@pytest.mark.parametrize(
    ("filename", "text", "setting"),
    [
        ("pyproject.toml", '[tool.setuptools.packages.find]\nwhere = ["../src"]\n', "where"),
        (
            "pyproject.toml",
            '[tool.setuptools]\npackages = ["a"]\npackage-dir = {"" = "/abs"}\n',
            "package-dir",
        ),
        (
            "setup.cfg",
            "[options]\npackages = find:\n[options.packages.find]\nwhere = ../up\n",
            "where",
        ),
        (
            "pyproject.toml",
            '[build-system]\nbuild-backend = "hatchling.build"\n'
            '[tool.hatch.build.targets.wheel]\npackages = ["../outside/pkg"]\n',
            "packages",
        ),
        ("pyproject.toml", '[tool.setuptools_scm]\nwrite_to = "../_version.py"\n', "write_to"),
        (
            "pyproject.toml",
            '[tool.pytest.ini_options]\ntestpaths = ["../elsewhere"]\n',
            "testpaths",
        ),
    ],
)
def test_a_path_outside_the_repository_is_refused_naming_the_setting(
    filename: str, text: str, setting: str
) -> None:
    tree = RepositoryTree.of(["pkg/__init__.py", "pkg/a.py"])

    with pytest.raises(errors.InvalidLayout, match=f"{setting}.*outside the repository"):
        layout_detection.detect(Layout.PYTHON, tree, {filename: text})


def test_a_configuration_file_that_does_not_parse_is_one_line_naming_it() -> None:
    tree = RepositoryTree.of(["pkg/__init__.py"])

    with pytest.raises(errors.InvalidLayout, match=r"^pyproject.toml is not valid TOML: .*line 1"):
        layout_detection.detect(Layout.PYTHON, tree, {"pyproject.toml": "[tool\n"})
    with pytest.raises(errors.InvalidLayout, match=r"^setup.cfg does not parse: "):
        layout_detection.detect(Layout.PYTHON, tree, {"setup.cfg": "no section\n"})


@pytest.mark.parametrize(
    ("configs", "source", "testpaths"),
    [
        ({}, None, ()),
        (
            {"pytest.ini": "[pytest]\ntestpaths = src/pkg tests\n"},
            "pytest.ini [pytest]",
            ("src/pkg", "tests"),
        ),
        ({"pytest.ini": "", "tox.ini": "[pytest]\ntestpaths = t\n"}, "pytest.ini", ()),
        (
            {
                "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["pkg"]\n',
                "tox.ini": "[pytest]\ntestpaths = t\n",
            },
            "pyproject.toml [tool.pytest.ini_options]",
            ("pkg",),
        ),
        (
            {"pyproject.toml": "[project]\nname='x'\n", "tox.ini": "[pytest]\ntestpaths = t\n"},
            "tox.ini [pytest]",
            ("t",),
        ),
        (
            {"setup.cfg": "[tool:pytest]\ntestpaths =\n    a\n    b\n"},
            "setup.cfg [tool:pytest]",
            ("a", "b"),
        ),
    ],
)
def test_pytest_settings_come_from_the_first_file_pytest_reads(
    configs: dict[str, str], source: str | None, testpaths: tuple[str, ...]
) -> None:
    config = pytest_config.read_pytest_config(configs)

    assert (config.source, config.testpaths) == (source, testpaths)


def test_testpaths_inside_the_package_put_new_tests_in_the_package() -> None:
    tree = RepositoryTree.of(["pkg/__init__.py", "pkg/a.py", "tests/test_unrelated.txt"])
    configs = {"pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["pkg"]\n'}

    profile = layout_detection.detect(Layout.PYTHON, tree, configs)

    assert profile.test_style is TestStyle.IN_PACKAGE
    assert profile.tests_from == "pytest testpaths (pyproject.toml [tool.pytest.ini_options])"


def test_tests_outside_testpaths_do_not_decide_where_new_tests_go() -> None:
    # tests/ holds old tests a bare pytest never collects; testpaths says tests go in qa/.
    files = ["pkg/__init__.py", "pkg/a.py", "tests/test_a.py", "tests/test_b.py"]
    configs = {"pytest.ini": "[pytest]\ntestpaths = qa\n"}

    profile = layout_detection.detect(Layout.PYTHON, RepositoryTree.of(files), configs)

    assert (profile.test_style, profile.tests_root) == (TestStyle.MIRRORED, "qa")


def test_mirrored_tests_are_recognised_by_their_subpackage_folders() -> None:
    files = [
        "src/shop/__init__.py",
        "src/shop/accounts/__init__.py",
        "src/shop/accounts/user.py",
        "tests/accounts/test_user.py",
        "tests/test_shop.py",
    ]

    profile = layout_detection.detect(Layout.PYTHON, RepositoryTree.of(files), {})

    assert (profile.test_style, profile.tests_root) == (TestStyle.MIRRORED, "tests")


def test_a_project_whose_tests_are_named_module_test_gets_new_files_named_so() -> None:
    files = ["pkg/__init__.py", "pkg/a.py", "tests/a_test.py", "tests/b_test.py"]

    profile = layout_detection.detect(Layout.PYTHON, RepositoryTree.of(files), {})

    assert profile.test_name == "{}_test.py"


def test_python_files_that_allow_no_writable_name_is_an_error() -> None:
    with pytest.raises(errors.InvalidLayout, match="python_files"):
        layout_detection.detect(
            Layout.PYTHON,
            RepositoryTree.of(["pkg/__init__.py"]),
            {"pytest.ini": "[pytest]\npython_files = check?.py\n"},
        )


@pytest.mark.parametrize(
    ("configs", "generated"),
    [
        (
            {"pyproject.toml": '[tool.setuptools_scm]\nwrite_to = "src/app/_version.py"\n'},
            ("src/app/_version.py", "written by the build (setuptools-scm write_to)"),
        ),
        (
            {"pyproject.toml": '[tool.setuptools_scm]\nversion_file = "src/app/_v.py"\n'},
            ("src/app/_v.py", "written by the build (setuptools-scm version_file)"),
        ),
        (
            {
                "pyproject.toml": '[build-system]\nbuild-backend = "hatchling.build"\n'
                '[tool.hatch.build.hooks.vcs]\nversion-file = "src/app/_version.py"\n'
            },
            ("src/app/_version.py", "written by the build (hatch-vcs version-file)"),
        ),
        (
            {"setup.cfg": "[versioneer]\nversionfile_source = src/app/_version.py\n"},
            ("src/app/_version.py", "written by the build (versioneer)"),
        ),
    ],
)
def test_files_the_build_writes_are_read_from_its_configuration(
    configs: dict[str, str], generated: tuple[str, str]
) -> None:
    assert python_packaging.read_packaging(configs).generated == (generated,)


def test_a_test_package_under_src_is_where_tests_go_not_code() -> None:
    files = ["src/app/__init__.py", "src/app/a.py", "src/tests/__init__.py", "src/tests/test_a.py"]

    profile = layout_detection.detect(Layout.PYTHON, RepositoryTree.of(files), {})

    assert (profile.test_style, profile.tests_root) == (TestStyle.FLAT, "src/tests")
