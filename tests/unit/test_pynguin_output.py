"""Cleaning and merging Pynguin's output: what the pynguin agent keeps of what Pynguin wrote.

The two samples are real: Pynguin 0.48.0 (``--assertion-generation SIMPLE --seed 42``, 20 s)
on ``humanize.filesize`` of humanize 4.9.0 and on ``cachetools.keys`` of cachetools 5.3.3, as
it wrote them (each cut after a few tests, and one long string split in two).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ctworkflow import errors
from ctworkflow.agents.pynguin import line_ranges, search_time_setting, seed_for
from ctworkflow.agents.pynguin_output import (
    APPENDED_MARKER,
    HEADER,
    clean,
    clean_body,
    merge,
    renamed,
)
from ctworkflow.agents.pynguin_runs import passed_names, project_path
from ctworkflow.agents.registry import get_agent
from ctworkflow.services.catalog import check_project_settings

FILESIZE_OUTPUT = r"""#  This file was automatically generated using Pynguin.

import pytest
import sys
import humanize.filesize

filesize_ = sys.modules["humanize.filesize"]


def test_0():
    var_0 = filesize_.naturalsize(value=2341)
    assert var_0 == "2.3 kB"
    assert filesize_.suffixes == {
        "decimal": (" kB", " MB", " GB", " TB", " PB", " EB", " ZB", " YB"),
        "binary": (" KiB", " MiB", " GiB", " TiB", " PiB", " EiB", " ZiB", " YiB"),
        "gnu": "KMGTPEZY",
    }


def test_1():
    var_67 = filesize_.naturalsize(value=False, gnu=True)
    assert var_67 == "0B"
    assert filesize_.suffixes == {
        "decimal": (" kB", " MB", " GB", " TB", " PB", " EB", " ZB", " YB"),
        "binary": (" KiB", " MiB", " GiB", " TiB", " PiB", " EiB", " ZiB", " YiB"),
        "gnu": "KMGTPEZY",
    }


@pytest.mark.xfail(strict=True)
def test_2():
    filesize_.naturalsize(value=1046.04, binary=True, format="HV=@3_(6a4E~:PkL:4")


def test_3():
    filesize_.naturalsize
    assert filesize_.suffixes == {
        "decimal": (" kB", " MB", " GB", " TB", " PB", " EB", " ZB", " YB"),
        "binary": (" KiB", " MiB", " GiB", " TiB", " PiB", " EiB", " ZiB", " YiB"),
        "gnu": "KMGTPEZY",
    }
    var_1 = "septillion"
    assert var_1 == "septillion"
    var_3 = False
    assert var_3 is False
    var_4 = filesize_.naturalsize(value=-20, gnu=var_3)
    assert var_4 == "-20 Bytes"


def test_4():
    var_67 = filesize_.naturalsize(value=True, gnu=True)
    assert var_67 == "1B"
    assert filesize_.suffixes == {
        "decimal": (" kB", " MB", " GB", " TB", " PB", " EB", " ZB", " YB"),
        "binary": (" KiB", " MiB", " GiB", " TiB", " PiB", " EiB", " ZiB", " YiB"),
        "gnu": "KMGTPEZY",
    }


def test_5():
    var_52 = filesize_.naturalsize(value=2278, gnu=False)
    assert var_52 == "2.3 kB"
    assert filesize_.suffixes == {
        "decimal": (" kB", " MB", " GB", " TB", " PB", " EB", " ZB", " YB"),
        "binary": (" KiB", " MiB", " GiB", " TiB", " PiB", " EiB", " ZiB", " YiB"),
        "gnu": "KMGTPEZY",
    }
    var_53 = filesize_.naturalsize(value=True, binary=False, gnu=False)
    assert var_53 == "1 Byte"


def test_6():
    var_72 = filesize_.naturalsize(value=1000000)
    assert var_72 == "1.0 MB"
    assert filesize_.suffixes == {
        "decimal": (" kB", " MB", " GB", " TB", " PB", " EB", " ZB", " YB"),
        "binary": (" KiB", " MiB", " GiB", " TiB", " PiB", " EiB", " ZiB", " YiB"),
        "gnu": "KMGTPEZY",
    }
"""

KEYS_OUTPUT = r"""#  This file was automatically generated using Pynguin.

import random as _pynguin_random
import pytest
import weakref as _pynguin_weakref

_pynguin_orig_seed = getattr(
    _pynguin_random.Random.seed, "__pynguin_orig__", _pynguin_random.Random.seed
)
_pynguin_tracked = _pynguin_weakref.WeakSet()


def _pynguin_deterministic_seed(self, x=None):
    if x is None:
        x = 42
    elif type(x).__hash__ is object.__hash__:
        x = f"{type(x).__module__}.{type(x).__name__}"
    _pynguin_orig_seed(self, x)
    _pynguin_tracked.add(self)


_pynguin_deterministic_seed.__pynguin_patched__ = True
_pynguin_deterministic_seed.__pynguin_orig__ = _pynguin_orig_seed
_pynguin_deterministic_seed.__pynguin_instances__ = _pynguin_tracked
_pynguin_random.Random.seed = _pynguin_deterministic_seed
import sys
import cachetools.keys

keys_ = sys.modules["cachetools.keys"]


@pytest.fixture(scope="module", autouse=True)
def _pynguin_restore_random():
    yield
    _pynguin_random.Random.seed = _pynguin_orig_seed


@pytest.fixture(autouse=True)
def _pynguin_seed_random():
    _pynguin_random.Random.seed = _pynguin_deterministic_seed
    _pynguin_random.seed(42)
    _pynguin_instances = getattr(
        _pynguin_random.Random.seed, "__pynguin_instances__", None
    )
    if _pynguin_instances is not None:
        for _inst in list(_pynguin_instances):
            _inst.seed(42)
    yield
    _pynguin_random.Random.seed = _pynguin_orig_seed


def test_0():
    var_30 = keys_._HashedTuple()
    assert isinstance(var_30, keys_._HashedTuple)
    assert len(var_30) == 0
    var_32 = var_30.__hash__()
    assert var_32 == 5740354900026072187
    var_33 = keys_.typedkey()
    assert isinstance(var_33, keys_._HashedTuple)
    assert len(var_33) == 0


def test_1():
    var_25 = keys_.typedkey()
    assert isinstance(var_25, keys_._HashedTuple)
    assert len(var_25) == 0


def test_2():
    var_0 = keys_._HashedTuple()
    assert isinstance(var_0, keys_._HashedTuple)
    assert len(var_0) == 0
    var_1 = var_0.__hash__()
    assert var_1 == 5740354900026072187
    with pytest.raises(TypeError):
        var_0.__radd__(
            other="Decorator to wrap a function with a memoizing callable that saves\n    "
            "up to `maxsize` results based on a Least Recently Used (LRU)\n    algorithm.\n\n    ",
            add=-2218,
        )
"""


def names_called(test_source: str) -> set[str]:
    tree = ast.parse(test_source)
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }


def test_the_assertions_kept_are_on_what_the_module_returned() -> None:
    tests = clean(FILESIZE_OUTPUT)

    sources = "\n".join(test.source for test in tests)
    # The module's constants, never touched by a test, are no longer asserted.
    assert "suffixes" not in sources
    # Nor are literals a test assigned to itself, nor bare references.
    assert "septillion" not in sources
    assert "var_1" not in sources
    assert all(
        not isinstance(s, ast.Expr) or isinstance(s.value, ast.Call)
        for test in tests
        for s in ast.parse(test.source).body[0].body  # type: ignore[attr-defined]
    )
    # What naturalsize returned is still asserted, value for value.
    assert "assert var_0 == '2.3 kB'" in sources
    assert "assert var_4 == '-20 Bytes'" in sources
    # A literal a call reads stays, as an argument of that call.
    assert "var_3 = False" in sources


def test_a_test_with_a_mark_is_left_out_and_the_others_keep_their_order() -> None:
    tests = clean(FILESIZE_OUTPUT)

    # test_2 is an xfail (the agent asks Pynguin for pytest.raises instead).
    assert [t.name for t in tests] == ["test_0", "test_1", "test_3", "test_4", "test_5", "test_6"]


def test_each_test_imports_what_it_uses_and_nothing_of_pynguin() -> None:
    tests = clean(KEYS_OUTPUT)

    for test in tests:
        assert "_pynguin" not in test.source
        assert "sys.modules" not in test.source
        function = ast.parse(test.source).body[0]
        assert isinstance(function, ast.FunctionDef)
        assert ast.unparse(function.body[0]) == "import cachetools.keys as keys_"
    raising = [t for t in tests if "pytest.raises" in t.source]
    assert raising and all("import pytest" in t.source for t in raising)
    assert not any("import pytest" in t.source for t in tests if t not in raising)


def test_cleaned_tests_run_alone_in_a_file_of_their_own(tmp_path: Path) -> None:
    module = tmp_path / "shapes.py"
    module.write_text("def area(w, h):\n    return w * h\n\nUNIT = 'cm'\n", encoding="utf-8")
    generated = textwrap.dedent(
        """\
        import pytest
        import sys
        import shapes

        shapes_ = sys.modules["shapes"]


        def test_0():
            var_0 = 3
            var_1 = shapes_.area(var_0, 4)
            assert var_1 == 12
            assert shapes_.UNIT == "cm"
            var_2 = "unused"


        def test_1():
            with pytest.raises(TypeError):
                shapes_.area(None, 2)
        """
    )
    content = merge(None, "shapes", renamed(clean(generated), ""))
    (tmp_path / "test_shapes.py").write_text(content, encoding="utf-8")

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_shapes.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stdout
    assert "2 passed" in done.stdout
    assert "UNIT" not in content and "unused" not in content


def test_clean_body_turns_an_unread_result_into_a_call_that_still_runs() -> None:
    body = ast.parse("var_0 = m.f(1)\nvar_1 = 'x'\nassert var_1 == 'x'\nm.g\n").body

    kept = clean_body(body)

    assert [ast.unparse(s) for s in kept] == ["m.f(1)"]


def test_a_test_that_calls_nothing_once_cleaned_is_left_out() -> None:
    source = "import sys\nimport a\na_ = sys.modules['a']\n\ndef test_0():\n    a_.f\n"

    assert clean(source) == []


def test_merge_appends_under_free_names_and_keeps_the_existing_file() -> None:
    existing = "import humanize\n\n\ndef test_pynguin_0():\n    assert humanize\n"
    tests = renamed(clean(FILESIZE_OUTPUT), existing)

    content = merge(existing, "humanize.filesize", tests)

    assert content.startswith(existing.rstrip())
    assert APPENDED_MARKER.format(module_repr="'humanize.filesize'") in content
    names = [n.name for n in ast.parse(content).body if isinstance(n, ast.FunctionDef)]
    assert names[0] == "test_pynguin_0"  # the file's own, untouched
    assert names[1:] == [f"test_pynguin2_{i}" for i in range(len(tests))]
    assert len(set(names)) == len(names)


def test_merge_without_a_file_writes_one_with_the_agents_header() -> None:
    tests = renamed(clean(FILESIZE_OUTPUT), "")

    content = merge(None, "humanize.filesize", tests)

    assert content.startswith(HEADER)
    compile(content, "test_filesize.py", "exec")
    assert "naturalsize" in names_called(content)


def test_an_existing_file_that_does_not_parse_is_refused() -> None:
    with pytest.raises(SyntaxError):
        renamed(clean(FILESIZE_OUTPUT), "def broken(:\n")


def test_passed_names_reads_the_junit_report() -> None:
    xml = (
        '<testsuites><testsuite><testcase classname="t" name="test_a"/>'
        '<testcase classname="t" name="test_b"><failure message="x"/></testcase>'
        '<testcase classname="t" name="test_c"><error message="x"/></testcase>'
        '<testcase classname="t" name="test_d"><skipped/></testcase></testsuite></testsuites>'
    )

    assert passed_names(xml) == {"test_a"}
    assert passed_names("not xml") == set()


@pytest.mark.parametrize(
    ("source_path", "module", "expected"),
    [
        ("src/humanize/number.py", "humanize.number", "src"),
        ("toolz/sandbox/core.py", "toolz.sandbox.core", "."),
        ("src/cachetools/__init__.py", "cachetools", "src"),
        ("lib/py/pkg/sub/__init__.py", "pkg.sub", "lib/py"),
    ],
)
def test_project_path_is_the_folder_the_module_is_imported_from(
    source_path: str, module: str, expected: str
) -> None:
    assert project_path(source_path, module) == expected


def test_the_seed_is_the_components_own() -> None:
    assert seed_for("humanize.number") == seed_for("humanize.number")
    assert seed_for("humanize.number") != seed_for("humanize.time")


def test_line_ranges_are_written_as_pynguin_reads_them() -> None:
    assert line_ranges(((12, 15), (40, 40))) == ["12-15", "40"]


@pytest.mark.parametrize("bad", [0, -5, 3601, 1.5, "60", True, None])
def test_a_bad_search_time_is_refused_with_one_line(bad: object) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        get_agent("pynguin", {"pynguin_search_time_s": bad})

    assert "pynguin_search_time_s" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_search_time_defaults_to_a_minute() -> None:
    assert search_time_setting({}) == 60
    assert get_agent("pynguin", {"pynguin_search_time_s": 25}).search_time_s == 25  # type: ignore[attr-defined]


def test_a_project_with_a_bad_search_time_is_refused_whatever_its_agent() -> None:
    with pytest.raises(errors.InvalidInput, match="pynguin_search_time_s"):
        check_project_settings({"agent": "scaffold", "pynguin_search_time_s": "fast"})

    assert check_project_settings({"pynguin_search_time_s": 20}) == {"pynguin_search_time_s": 20}
