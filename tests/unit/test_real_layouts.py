"""Layout profiles and discovery scans of real packages, fetched at test time (never committed).

Each package's unpacked source distribution is read the way discovery reads a commit: its file
list and its root configuration files. The expectations are what a user of each package would
expect: its packages as contexts, its public modules as components, its tests and private or
generated modules left out with a reason, and each component's test file where the project's
own tests already are (the existing file when there is one).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ctworkflow.domain.repository import discovery, elixir_layout, layout_detection, layout_profile
from ctworkflow.domain.repository.layout_profile import ElixirLayout, LayoutProfile, TestStyle
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.repository.repository_tree import RepositoryTree
from tests.real_packages import fetch_eex, fetch_sdist

#: What an sdist carries that the authors' repository does not.
SDIST_ONLY = ("PKG-INFO",)


def read_package(
    folder: Path, layout: Layout = Layout.PYTHON
) -> tuple[RepositoryTree, dict[str, str]]:
    """The files of an unpacked package as a tree, and its root configuration files."""
    files = [
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name not in SDIST_ONLY and ".egg-info" not in p.as_posix()
    ]
    configs = {
        name: (folder / name).read_text(encoding="utf-8")
        for name in layout_detection.config_files(layout)
        if (folder / name).is_file()
    }
    return RepositoryTree.of(files), configs


def scanned(
    folder: Path, layout: Layout = Layout.PYTHON, settings: dict[str, object] | None = None
) -> tuple[LayoutProfile, discovery.Scan]:
    tree, configs = read_package(folder, layout)
    profile = layout_detection.detect(layout, tree, configs, settings or {})
    sources = {
        path: (folder / path).read_text(encoding="utf-8")
        for path in elixir_layout.candidates(profile, tree)
    }
    return profile, discovery.scan(profile, tree, sources)


def contexts(scan: discovery.Scan) -> list[str]:
    return [f.module_name for f in scan.found if f.type == discovery.CONTEXT]


def components(scan: discovery.Scan) -> dict[str, tuple[str, str | None, bool]]:
    """Each component's source path, test path and whether that test file exists."""
    return {
        f.module_name: (f.path, f.test_path, f.test_exists)
        for f in scan.found
        if f.type == discovery.MODULE
    }


def skipped(scan: discovery.Scan) -> dict[str, str]:
    return {s.path: s.reason for s in scan.skipped}


@pytest.fixture(scope="module")
def sdists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sdists")
    wanted = {
        "marshmallow": "3.21.3",
        "prettytable": "3.10.0",
        "python-dateutil": "2.9.0.post0",
        "toolz": "0.12.1",
    }
    return {name: fetch_sdist(name, version, root / name) for name, version in wanted.items()}


PRIVATE = "private module (the project setting include_private brings it back)"


def test_marshmallow_is_a_src_package_whose_tests_are_one_flat_folder(
    sdists: dict[str, Path],
) -> None:
    profile, scan = scanned(sdists["marshmallow"])

    assert profile.package_folders == {"marshmallow": "src/marshmallow"}
    assert profile.packages_from == "flit module name marshmallow"
    assert (profile.test_style, profile.tests_root) == (TestStyle.FLAT, "tests")
    assert contexts(scan) == ["marshmallow"]
    found = components(scan)
    assert sorted(found) == [
        f"marshmallow.{m}"
        for m in (
            "base",
            "class_registry",
            "decorators",
            "error_store",
            "exceptions",
            "fields",
            "orderedset",
            "schema",
            "types",
            "utils",
            "validate",
            "warnings",
        )
    ]
    # The project's own test file of a module is found and kept; the others get a new one.
    assert found["marshmallow.fields"] == (
        "src/marshmallow/fields.py",
        "tests/test_fields.py",
        True,
    )
    assert found["marshmallow.schema"][1:] == ("tests/test_schema.py", True)
    assert found["marshmallow.class_registry"][1:] == ("tests/test_class_registry.py", False)
    existing = sorted(m.rsplit(".", 1)[1] for m, (_, _, e) in found.items() if e)
    assert existing == [
        "decorators",
        "error_store",
        "exceptions",
        "fields",
        "schema",
        "utils",
        "validate",
    ]
    assert scan.skipped == ()


def test_prettytable_is_found_through_hatch_under_src(sdists: dict[str, Path]) -> None:
    profile, scan = scanned(sdists["prettytable"])

    assert profile.package_folders == {"prettytable": "src/prettytable"}
    assert profile.packages_from == "hatch project name prettytable"
    assert contexts(scan) == ["prettytable"]
    assert components(scan) == {
        "prettytable.colortable": (
            "src/prettytable/colortable.py",
            "tests/test_colortable.py",
            True,
        ),
        "prettytable.prettytable": (
            "src/prettytable/prettytable.py",
            "tests/test_prettytable.py",
            True,
        ),
    }


def test_dateutil_subpackages_are_contexts_and_its_private_and_generated_modules_are_skipped(
    sdists: dict[str, Path],
) -> None:
    profile, scan = scanned(sdists["python-dateutil"])

    assert profile.source_root == "src"
    assert profile.packages_from == "setup.cfg [options.packages.find]: src/"
    # setup.py's setup(use_scm_version={"write_to": ...}) is read, never run.
    assert dict(profile.generated) == {
        "src/dateutil/_version.py": "written by the build (setuptools-scm write_to)"
    }
    # tests/property/ holds a few tests too; the flat tests/ folder is where most are.
    assert (profile.test_style, profile.tests_root) == (TestStyle.FLAT, "tests")
    assert contexts(scan) == ["dateutil", "dateutil.parser", "dateutil.tz", "dateutil.zoneinfo"]
    found = components(scan)
    assert sorted(found) == [
        "dateutil.easter",
        "dateutil.parser.isoparser",
        "dateutil.relativedelta",
        "dateutil.rrule",
        "dateutil.tz.tz",
        "dateutil.tz.win",
        "dateutil.tzwin",
        "dateutil.utils",
        "dateutil.zoneinfo.rebuild",
    ]
    assert found["dateutil.parser.isoparser"] == (
        "src/dateutil/parser/isoparser.py",
        "tests/test_isoparser.py",
        True,
    )
    assert found["dateutil.tz.tz"][1:] == ("tests/test_tz.py", True)
    assert found["dateutil.zoneinfo.rebuild"][1:] == ("tests/test_rebuild.py", False)
    assert skipped(scan) == {
        "src/dateutil/_common.py": PRIVATE,
        "src/dateutil/_version.py": "generated: written by the build (setuptools-scm write_to)",
        "src/dateutil/parser/_parser.py": PRIVATE,
        "src/dateutil/tz/_common.py": PRIVATE,
        "src/dateutil/tz/_factories.py": PRIVATE,
    }


def test_a_project_setting_brings_private_modules_back_but_never_generated_ones(
    sdists: dict[str, Path],
) -> None:
    _, scan = scanned(sdists["python-dateutil"], settings={"include_private": True})

    found = components(scan)
    assert "dateutil.parser._parser" in found
    assert "dateutil._common" in found
    assert "dateutil._version" not in found
    assert list(skipped(scan)) == ["src/dateutil/_version.py"]


def test_toolz_is_flat_with_its_tests_inside_its_packages(sdists: dict[str, Path]) -> None:
    profile, scan = scanned(sdists["toolz"])

    # setup.py lists toolz, toolz.sandbox, toolz.curried and tlz; toolz/tests is no package.
    assert profile.package_folders == {
        "tlz": "tlz",
        "toolz": "toolz",
        "toolz.curried": "toolz/curried",
        "toolz.sandbox": "toolz/sandbox",
    }
    assert profile.test_style is TestStyle.IN_PACKAGE
    # tlz holds only a private module: no context of its own.
    assert contexts(scan) == ["toolz", "toolz.curried", "toolz.sandbox"]
    found = components(scan)
    assert found["toolz.itertoolz"] == ("toolz/itertoolz.py", "toolz/tests/test_itertoolz.py", True)
    assert found["toolz.dicttoolz"][1:] == ("toolz/tests/test_dicttoolz.py", True)
    # A subpackage's tests go in its own tests/ folder, as toolz does for its sandbox upstream
    # (the sdist does not ship toolz/sandbox/tests/, so those files are new here).
    assert found["toolz.sandbox.core"][1:] == ("toolz/sandbox/tests/test_core.py", False)
    assert found["toolz.curried.operator"][1:] == ("toolz/curried/tests/test_operator.py", False)
    assert skipped(scan) == {
        "tlz/_build_tlz.py": PRIVATE,
        "toolz/_signatures.py": PRIVATE,
        "toolz/_version.py": "generated: written by the build (versioneer)",
    }
    # No test module of toolz/tests is ever a component.
    assert not [m for m in found if ".tests" in m or m.rsplit(".", 1)[1].startswith("test_")]


def test_a_flat_copy_with_test_packages_skips_them_and_follows_pytest_testpaths(
    sdists: dict[str, Path],
) -> None:
    # Given toolz as a flat project whose tests are packages and whose pytest collects only
    # from the package (the issue's own report), with no setup.py naming the packages.
    source = sdists["toolz"]
    files, configs = read_package(source)
    paths = {p for p in files.files if p != "setup.py"} | {
        "toolz/tests/__init__.py",
        "toolz/sandbox/tests/__init__.py",
        "toolz/sandbox/tests/test_core.py",
        "toolz/__main__.py",
    }
    configs.pop("setup.py")
    configs["pyproject.toml"] = '[tool.pytest.ini_options]\ntestpaths = ["toolz"]\n'
    tree = RepositoryTree.of(paths)

    profile = layout_detection.detect(Layout.PYTHON, tree, configs, {})
    scan = discovery.scan(profile, tree, {})

    assert contexts(scan) == ["toolz", "toolz.curried", "toolz.sandbox"]
    assert skipped(scan)["toolz/tests/"] == "test package"
    assert skipped(scan)["toolz/sandbox/tests/"] == "test package"
    assert skipped(scan)["toolz/__main__.py"] == (
        "__main__: the program's entry point, not a component"
    )
    assert components(scan)["toolz.sandbox.core"][1:] == ("toolz/sandbox/tests/test_core.py", True)


def test_the_eex_library_is_one_context_whose_tests_mirror_lib(tmp_path: Path) -> None:
    folder = fetch_eex(tmp_path)

    profile, scan = scanned(folder, Layout.PHOENIX)

    assert (profile.elixir_layout, profile.app) == (ElixirLayout.LIBRARY, "eex")
    # lib/eex.ex defines EEx.SyntaxError first; EEx is the module whose file it is.
    assert contexts(scan) == ["EEx"]
    assert components(scan) == {
        "EEx.Compiler": ("lib/eex/compiler.ex", "test/eex/compiler_test.exs", False),
        "EEx.Engine": ("lib/eex/engine.ex", "test/eex/engine_test.exs", False),
        "EEx.SmartEngine": ("lib/eex/smart_engine.ex", "test/eex/smart_engine_test.exs", True),
        # lib/eex.ex defines public functions: the library's own code is a component too.
        "EEx.__init__": ("lib/eex.ex", "test/eex_test.exs", True),
    }
    tree, _ = read_package(folder, Layout.PHOENIX)
    assert layout_profile.existing_test_file(profile, "EEx.SmartEngine", tree) == (
        "test/eex/smart_engine_test.exs"
    )
