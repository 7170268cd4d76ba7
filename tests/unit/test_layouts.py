"""Repository layouts: module names and the paths of source and test files."""

from __future__ import annotations

import pytest

from ctworkflow import errors
from ctworkflow.domain.inputs import preview
from ctworkflow.domain.repository import layouts
from ctworkflow.domain.repository.layouts import Layout


def test_parse_layout_accepts_every_layout() -> None:
    assert layouts.parse_layout("phoenix") is Layout.PHOENIX
    assert layouts.parse_layout("python") is Layout.PYTHON


def test_layout_values_are_their_names() -> None:
    assert [str(layout) for layout in Layout] == ["phoenix", "python"]


@pytest.mark.parametrize("value", ["rails", "", "Phoenix", " python", "python\n"])
def test_parse_layout_refuses_an_unknown_layout(value: str) -> None:
    with pytest.raises(errors.UnknownLayout) as excinfo:
        layouts.parse_layout(value)
    assert str(excinfo.value) == f"unknown layout {value!r}: expected one of phoenix, python"


def test_parse_layout_error_message_names_the_value() -> None:
    with pytest.raises(errors.UnknownLayout, match="unknown layout 'rails': expected one of"):
        layouts.parse_layout("rails")


@pytest.mark.parametrize(
    ("module_name", "expected"),
    [
        ("MyApp.Accounts.User", "my_app/accounts/user"),
        ("MyApp.Accounts.UserRepository", "my_app/accounts/user_repository"),
        ("MyApp.AccountsLive", "my_app/accounts_live"),
        ("SAPExample", "sap_example"),
        ("FOO_BAR", "foo_bar"),
        ("Foo10", "foo10"),
        ("FooBAR10", "foo_bar10"),
        ("Foo10Bar", "foo10_bar"),
        ("This_That", "this__that"),
        ("CodeMySpecCli.Hooks.ValidateEdits", "code_my_spec_cli/hooks/validate_edits"),
        ("MyApp.HTTPClient", "my_app/http_client"),
        ("MyApp.API.V2", "my_app/api/v2"),
        ("A", "a"),
        ("", ""),
    ],
)
def test_underscore_matches_elixir(module_name: str, expected: str) -> None:
    assert layouts.underscore(module_name) == expected


@pytest.mark.parametrize(
    "module_name",
    ["MyApp", "MyApp.Accounts.User", "My_App.V2", "A", "Foo10", "A.B.C", "X" * 255],
)
def test_validate_module_name_accepts_a_phoenix_module(module_name: str) -> None:
    assert layouts.validate_module_name(Layout.PHOENIX, module_name) == module_name


@pytest.mark.parametrize(
    "module_name",
    ["pkg", "pkg.accounts.user", "_private", "Pkg.Mod", "pkg._x.y2", "x" * 255],
)
def test_validate_module_name_accepts_a_python_module(module_name: str) -> None:
    assert layouts.validate_module_name(Layout.PYTHON, module_name) == module_name


_BAD_FOR_BOTH = [
    "",
    "A" * 256,
    "MyApp..User",
    "../etc/passwd",
    "MyApp.Accounts/User",
    "Foo\n",
    "Foo Bar",
    "Café",
    ".Foo",
    "Foo.",
    "Foo.1Bar",
    "Foo-Bar",
    "Foo\x00",
    "\tFoo",
    "\uff26oo",  # fullwidth F
]


@pytest.mark.parametrize("layout", list(Layout))
@pytest.mark.parametrize("module_name", _BAD_FOR_BOTH)
def test_validate_module_name_refuses_a_bad_name(layout: Layout, module_name: str) -> None:
    with pytest.raises(errors.InvalidModuleName) as excinfo:
        layouts.validate_module_name(layout, module_name)
    assert preview(module_name) in str(excinfo.value)  # quoted, and cut short if long
    assert len(str(excinfo.value)) < 300


@pytest.mark.parametrize("module_name", ["my_app.accounts", "myApp", "MyApp.accounts", "_Foo"])
def test_validate_module_name_refuses_a_lowercase_phoenix_segment(module_name: str) -> None:
    with pytest.raises(errors.InvalidModuleName) as excinfo:
        layouts.validate_module_name(Layout.PHOENIX, module_name)
    message = str(excinfo.value)
    assert repr(module_name) in message
    assert "phoenix" in message
    assert "uppercase" in message


def test_validate_module_name_error_message_names_the_length_rule() -> None:
    with pytest.raises(errors.InvalidModuleName) as excinfo:
        layouts.validate_module_name(Layout.PYTHON, "")
    assert str(excinfo.value) == "module name '' must be 1 to 255 characters long, not 0"


def test_validate_module_name_refuses_a_trailing_newline() -> None:
    with pytest.raises(errors.InvalidModuleName) as excinfo:
        layouts.validate_module_name(Layout.PHOENIX, "Foo\n")
    assert "'Foo\\n'" in str(excinfo.value)


@pytest.mark.parametrize(
    ("module_name", "source", "test"),
    [
        (
            "MyApp.Accounts.User",
            "lib/my_app/accounts/user.ex",
            "test/my_app/accounts/user_test.exs",
        ),
        (
            "MyApp.Accounts.UserRepository",
            "lib/my_app/accounts/user_repository.ex",
            "test/my_app/accounts/user_repository_test.exs",
        ),
        ("MyApp.AccountsLive", "lib/my_app/accounts_live.ex", "test/my_app/accounts_live_test.exs"),
        ("SAPExample", "lib/sap_example.ex", "test/sap_example_test.exs"),
        (
            "CodeMySpecCli.Hooks.ValidateEdits",
            "lib/code_my_spec_cli/hooks/validate_edits.ex",
            "test/code_my_spec_cli/hooks/validate_edits_test.exs",
        ),
    ],
)
def test_phoenix_paths_follow_the_underscored_module(
    module_name: str, source: str, test: str
) -> None:
    assert layouts.source_file_path(Layout.PHOENIX, module_name) == source
    assert layouts.test_file_path(Layout.PHOENIX, module_name) == test


@pytest.mark.parametrize(
    ("module_name", "source", "test"),
    [
        ("pkg.accounts.user", "pkg/accounts/user.py", "tests/accounts/test_user.py"),
        ("pkg.user", "pkg/user.py", "tests/test_user.py"),
        ("util", "util.py", "tests/test_util.py"),
        ("pkg.a.b.c", "pkg/a/b/c.py", "tests/a/b/test_c.py"),
        ("Pkg.CamelCase", "Pkg/CamelCase.py", "tests/test_CamelCase.py"),
    ],
)
def test_python_tests_mirror_the_package_tree_below_the_top_level_package(
    module_name: str, source: str, test: str
) -> None:
    assert layouts.source_file_path(Layout.PYTHON, module_name) == source
    assert layouts.test_file_path(Layout.PYTHON, module_name) == test


@pytest.mark.parametrize("layout", list(Layout))
@pytest.mark.parametrize("module_name", ["../etc/passwd", "MyApp..User", "", "Foo\n"])
def test_file_paths_validate_the_module_name_first(layout: Layout, module_name: str) -> None:
    with pytest.raises(errors.InvalidModuleName):
        layouts.test_file_path(layout, module_name)
    with pytest.raises(errors.InvalidModuleName):
        layouts.source_file_path(layout, module_name)


def test_file_path_is_not_collected_as_a_test() -> None:
    assert getattr(layouts.test_file_path, "__test__", True) is False


@pytest.mark.parametrize(
    ("layout", "path", "expected"),
    [
        (Layout.PHOENIX, "_build/test/lib/my_app/ebin/Elixir.MyApp.beam", True),
        (Layout.PHOENIX, "deps/jason/mix.exs", True),
        (Layout.PHOENIX, "lib/my_app/_build/x.ex", False),
        (Layout.PHOENIX, "lib/my_app/accounts.ex", False),
        (Layout.PHOENIX, "mix.exs", False),
        (Layout.PYTHON, "shop/accounts/__pycache__/user.cpython-311.pyc", True),
        (Layout.PYTHON, ".pytest_cache/v/cache/nodeids", True),
        (Layout.PYTHON, "shop/__pycache__", False),  # a file so named is code, not a cache
        (Layout.PYTHON, "_build/anything", False),
        (Layout.PYTHON, "shop/accounts/user.py", False),
    ],
)
def test_build_output_of_each_layouts_tools_is_told_apart_from_code(
    layout: Layout, path: str, expected: bool
) -> None:
    assert layouts.is_build_output(layout, path) is expected
