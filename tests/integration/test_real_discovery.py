"""Discovery of real packages published as upstream repositories with a bare remote: ``ctw
discover`` and the API find the contexts a user expects, say where tests go, refuse bad input
in one line without registering anything, and a session on a real flat package puts its tests
where the project's own ``pytest`` collects them, with every test that passed before passing.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctworkflow import api, errors
from ctworkflow.config import get_settings
from ctworkflow.domain.model import Scope
from ctworkflow.domain.states import SessionStatus
from ctworkflow.persistence import db
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import catalog
from tests.cli_support import base_env, ctw
from tests.conftest import fresh_database
from tests.elixir_support import require_elixir
from tests.real_packages import UpstreamRepo, as_repository, fetch_eex, fetch_sdist, git, register
from tests.workflow_support import wait_until_terminal


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("unpacked")
    return {
        "marshmallow": fetch_sdist("marshmallow", "3.21.3", root / "marshmallow"),
        "python-dateutil": fetch_sdist("python-dateutil", "2.9.0.post0", root / "dateutil"),
        "toolz": fetch_sdist("toolz", "0.12.1", root / "toolz"),
    }


@pytest.fixture
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh PostgreSQL database (discovery needs no worker)."""
    url = fresh_database(request, "postgresql", tmp_path)
    monkeypatch.setenv("CTW_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    db.close_engine(url)


def registered(scope: Scope) -> list[str]:
    with unit_of_work() as uow:
        return sorted(c.module_name for c in catalog.list_components(uow, scope))


def dateutil_repo(unpacked: dict[str, Path], root: Path) -> UpstreamRepo:
    # setuptools-scm writes src/dateutil/_version.py at build time; the authors ignore it.
    return as_repository(unpacked["python-dateutil"], root, generated=["src/dateutil/_version.py"])


def cli_env(scope: Scope, database: str, tmp_path: Path) -> dict[str, str]:
    """A ``ctw`` user's environment, scoped to the project ``scope`` names."""
    return {
        **base_env(tmp_path / "home", CTW_DATABASE_URL=database, CTW_DATA_DIR=str(tmp_path / "d")),
        "CTW_ACCOUNT": str(scope.account_id),
        "CTW_PROJECT": str(scope.project_id),
    }


def test_ctw_discover_registers_a_src_package_and_says_where_its_tests_go(
    database: str, unpacked: dict[str, Path], tmp_path: Path
) -> None:
    upstream = as_repository(unpacked["marshmallow"], tmp_path / "marshmallow")
    scope = register(upstream, "python")
    env = cli_env(scope, database, tmp_path)

    shown = ctw("discover", env=env)
    again = api.discover_components(scope)

    assert shown.code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[1].startswith("layout    python packages marshmallow under src/")
    assert "tests: flat, tests/test_<module>.py" in lines[1]
    assert "added     marshmallow.fields" in lines
    with unit_of_work() as uow:
        listed = {c.module_name: c for c in catalog.list_components(uow, scope)}
    assert sorted(listed) == sorted(
        ["marshmallow"] + [f"marshmallow.{m}" for m in MARSHMALLOW_MODULES]
    )
    assert listed["marshmallow"].type == "context"
    assert {c.parent_id for m, c in listed.items() if m != "marshmallow"} == {
        listed["marshmallow"].id
    }
    tests = {module: (path, exists) for module, path, exists in again.tests}
    assert tests["marshmallow.fields"] == ("tests/test_fields.py", True)
    assert tests["marshmallow.class_registry"] == ("tests/test_class_registry.py", False)
    assert again.added == () and len(again.unchanged) == len(listed)


MARSHMALLOW_MODULES = (
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


def test_discovery_of_a_src_package_with_subpackages_skips_private_and_generated_modules(
    database: str, unpacked: dict[str, Path], tmp_path: Path
) -> None:
    upstream = dateutil_repo(unpacked, tmp_path / "dateutil")
    scope = register(upstream, "python")

    report = api.discover_components(scope)

    assert [m for m in report.added if "." not in m.removeprefix("dateutil")] == ["dateutil"]
    assert {"dateutil.parser", "dateutil.tz", "dateutil.zoneinfo"} <= set(report.added)
    assert "dateutil.tz.tz" in report.added
    # No private module; the subpackages whose __init__.py defines public classes or
    # functions have their own code as a component.
    own = [m for m in report.added if m.endswith(".__init__")]
    assert own == ["dateutil.tz.__init__", "dateutil.zoneinfo.__init__"]
    assert not [m for m in report.added if m.rsplit(".", 1)[-1].startswith("_") and m not in own]
    assert {s.path: s.reason.split(" (")[0] for s in report.skipped} == {
        "src/dateutil/_common.py": "private module",
        "src/dateutil/parser/_parser.py": "private module",
        "src/dateutil/tz/_common.py": "private module",
        "src/dateutil/tz/_factories.py": "private module",
    }


def test_discovery_of_a_flat_package_puts_tests_inside_its_packages(
    database: str, unpacked: dict[str, Path], tmp_path: Path
) -> None:
    upstream = as_repository(unpacked["toolz"], tmp_path / "toolz")
    scope = register(upstream, "python")

    report = api.discover_components(scope)

    contexts = ["toolz", "toolz.curried", "toolz.sandbox"]
    assert [m for m in report.added if m in contexts or m == "tlz"] == contexts
    tests = {module: (path, exists) for module, path, exists in report.tests}
    assert tests["toolz.itertoolz"] == ("toolz/tests/test_itertoolz.py", True)
    assert tests["toolz.sandbox.core"] == ("toolz/sandbox/tests/test_core.py", False)
    assert registered(scope) == sorted(report.added)


def test_finding_nothing_exits_non_zero_with_its_reason_and_registers_nothing(
    database: str, unpacked: dict[str, Path], tmp_path: Path
) -> None:
    # The package's __init__.py is gone: src/marshmallow/ is no package any more.
    upstream = as_repository(unpacked["marshmallow"], tmp_path / "marshmallow")
    (upstream.work / "src/marshmallow/__init__.py").unlink()
    upstream.commit_all("Drop the package marker")
    scope = register(upstream, "python")

    result = ctw("discover", env=cli_env(scope, database, tmp_path))

    assert result.code == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: nothing to test at "
        f"{git('rev-parse', 'HEAD', cwd=upstream.work)[:12]}: no package at marshmallow/ or"
        " src/marshmallow/ (flit module name marshmallow): no __init__.py there"
    ]
    assert registered(scope) == []


def _outside_setting(upstream: UpstreamRepo) -> None:
    cfg = upstream.work / "setup.cfg"
    cfg.write_text(cfg.read_text().replace("where = src", "where = ../src"))


def _symlinked_source(upstream: UpstreamRepo) -> None:
    os.symlink("/etc/passwd", upstream.work / "src/dateutil/leak.py")


def _symlinked_test(upstream: UpstreamRepo) -> None:
    (upstream.work / "tests/test_easter.py").unlink()
    os.symlink("../../../elsewhere/test_easter.py", upstream.work / "tests/test_easter.py")


def _test_path_is_a_folder(upstream: UpstreamRepo) -> None:
    (upstream.work / "tests/test_easter.py").unlink()
    (upstream.work / "tests/test_easter.py").mkdir()
    (upstream.work / "tests/test_easter.py/keep.txt").write_text("a folder\n")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _outside_setting,
            "setup.cfg [options.packages.find] where '../src' is outside the repository",
        ),
        (
            _symlinked_source,
            "source file src/dateutil/leak.py is a symlink to /etc/passwd, outside the repository",
        ),
        (
            _symlinked_test,
            "test file tests/test_easter.py is a symlink to ../../../elsewhere/test_easter.py,"
            " outside the repository",
        ),
        (
            _test_path_is_a_folder,
            "test path tests/test_easter.py of dateutil.easter is a folder, not a file",
        ),
    ],
    ids=["package-path-outside", "symlinked-source", "symlinked-test", "test-path-is-a-folder"],
)
def test_bad_layouts_are_one_typed_line_and_register_nothing(
    database: str, unpacked: dict[str, Path], tmp_path: Path, change: object, message: str
) -> None:
    upstream = dateutil_repo(unpacked, tmp_path / "dateutil")
    change(upstream)  # type: ignore[operator]
    upstream.commit_all("A change that makes the layout unusable")
    scope = register(upstream, "python")

    with pytest.raises(errors.InvalidLayout) as raised:
        api.discover_components(scope)

    assert str(raised.value) == message
    assert registered(scope) == []


def test_an_elixir_library_is_discovered_with_the_test_paths_mix_expects(
    database: str, tmp_path: Path
) -> None:
    require_elixir()
    upstream = as_repository(fetch_eex(tmp_path / "src"), tmp_path / "eex")
    scope = register(upstream, "phoenix")

    report = api.discover_components(scope)

    # lib/eex.ex defines public functions: the library's own code is a component too.
    assert report.added == ("EEx", "EEx.Compiler", "EEx.Engine", "EEx.SmartEngine", "EEx.__init__")
    assert report.profile is not None and report.profile.describe() == (
        "elixir library layout, app eex, tests in test/ mirroring lib/"
    )
    assert report.tests == (
        ("EEx.Compiler", "test/eex/compiler_test.exs", False),
        ("EEx.Engine", "test/eex/engine_test.exs", False),
        ("EEx.SmartEngine", "test/eex/smart_engine_test.exs", True),
        ("EEx.__init__", "test/eex_test.exs", True),
    )
    # And it is a library mix runs on its own: its own suite passes with the installed mix.
    done = subprocess.run(
        ["mix", "test"],
        cwd=upstream.work,
        env={**os.environ, "MIX_HOME": str(tmp_path / "mix"), "MIX_ENV": "test"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "7 doctests, 101 tests, 0 failures" in done.stdout


def test_a_session_whose_base_commit_has_an_unusable_layout_fails_at_once_and_pushes_nothing(
    workflow_db: str, unpacked: dict[str, Path], tmp_path: Path
) -> None:
    upstream = dateutil_repo(unpacked, tmp_path / "dateutil")
    scope = register(upstream, "python")
    api.discover_components(scope)
    _outside_setting(upstream)  # the code changes after discovery
    upstream.commit_all("Point setuptools outside the repository")

    session = wait_until_terminal(
        scope, api.start_context_testing(scope, "dateutil.tz").id, timeout_s=120
    )

    assert session.status is SessionStatus.FAILED
    assert session.error == (
        "setup.cfg [options.packages.find] where '../src' is outside the repository"
    )
    assert git("branch", "--list", cwd=upstream.remote) == "* main"
    details = api.session_details(scope, session.id)
    assert details.children == []
