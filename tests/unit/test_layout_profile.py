"""A layout profile's paths, its checks of the commit's files, and the project settings over it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ctworkflow import errors
from ctworkflow.agents import prompt
from ctworkflow.domain.repository import layout_detection, layout_profile, layout_settings, layouts
from ctworkflow.domain.repository.layout_profile import ElixirLayout, LayoutProfile, TestStyle
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.repository.repository_tree import RepositoryTree


@pytest.mark.parametrize(
    ("layout", "module"),
    [
        (Layout.PYTHON, "pkg.accounts.user"),
        (Layout.PYTHON, "pkg.user"),
        (Layout.PYTHON, "util"),
        (Layout.PHOENIX, "MyApp.Accounts.UserRepository"),
        (Layout.PHOENIX, "MyApp.HTTPClient"),
    ],
)
def test_the_default_profile_keeps_the_seeds_naming(layout: Layout, module: str) -> None:
    profile = layout_profile.default_profile(layout)

    assert layout_profile.source_path(profile, module) == layouts.source_file_path(layout, module)
    assert layout_profile.test_path(profile, module) == layouts.test_file_path(layout, module)


def test_a_repository_with_nothing_configured_gets_the_seeds_default_placement() -> None:
    tree = RepositoryTree.of(
        ["shop/__init__.py", "shop/accounts/__init__.py", "shop/accounts/user.py"]
    )

    profile = layout_detection.detect(Layout.PYTHON, tree, {})

    assert layout_profile.test_path(profile, "shop.accounts.user") == "tests/accounts/test_user.py"
    assert profile.tests_from == "default: no test file yet"


SRC = LayoutProfile(
    layout=Layout.PYTHON,
    packages=(("app", "src/app"), ("app.sub", "src/app/sub")),
    source_root="src",
)


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        (TestStyle.MIRRORED, "tests/sub/test_mod.py"),
        (TestStyle.FLAT, "tests/test_mod.py"),
        (TestStyle.IN_PACKAGE, "src/app/sub/tests/test_mod.py"),
    ],
)
def test_each_test_style_places_the_test_file(style: TestStyle, expected: str) -> None:
    profile = replace(SRC, test_style=style)

    assert layout_profile.source_path(profile, "app.sub.mod") == "src/app/sub/mod.py"
    assert layout_profile.test_path(profile, "app.sub.mod") == expected


def test_a_profile_survives_its_json_round_trip() -> None:
    profile = replace(
        SRC,
        test_style=TestStyle.IN_PACKAGE,
        generated=(("src/app/_version.py", "written by the build (x)"),),
        include_private=True,
    )
    elixir = layout_profile.default_profile(Layout.PHOENIX)

    assert LayoutProfile.from_json(profile.to_json()) == profile
    assert LayoutProfile.from_json(elixir.to_json()) == elixir


def test_a_module_registered_as_a_package_resolves_to_its_init() -> None:
    tree = RepositoryTree.of(["src/app/__init__.py", "src/app/sub/__init__.py"])

    paths = layout_profile.component_paths(SRC, "app.sub", tree)

    assert paths.source == "src/app/sub/__init__.py"


@pytest.mark.parametrize(
    ("links", "message"),
    [
        (
            {"src/app/mod.py": "/etc/passwd"},
            "source file src/app/mod.py is a symlink to /etc/passwd",
        ),
        ({"src/app/mod.py": "../../../outside.py"}, "source file src/app/mod.py is a symlink to"),
        (
            {"tests/sub/test_mod.py": "../../../x.py"},
            "test file tests/sub/test_mod.py is a symlink",
        ),
        ({"tests": "/tmp"}, "test file tests/sub/test_mod.py is a symlink to /tmp"),
        ({"src/app/mod.py": "hop.py", "src/app/hop.py": "../../../x"}, "outside the repository"),
        ({"src/app/mod.py": "loop.py", "src/app/loop.py": "mod.py"}, "symlink loop"),
    ],
)
def test_a_symlinked_source_or_test_file_out_of_the_repository_is_refused(
    links: dict[str, str], message: str
) -> None:
    tree = RepositoryTree.of(["src/app/__init__.py", "src/app/sub/__init__.py"], links)

    with pytest.raises(errors.InvalidLayout, match=message):
        layout_profile.component_paths(
            SRC, "app.sub.mod" if "tests" in str(links) else "app.mod", tree
        )


def test_a_symlink_that_stays_inside_the_repository_is_fine() -> None:
    tree = RepositoryTree.of(
        ["src/app/__init__.py", "shared/mod.py"], {"src/app/mod.py": "../../shared/mod.py"}
    )

    paths = layout_profile.component_paths(SRC, "app.mod", tree)

    assert (paths.source, paths.test, paths.test_exists) == (
        "src/app/mod.py",
        "tests/test_mod.py",
        False,
    )


def test_a_test_path_that_is_a_folder_or_under_a_file_is_refused() -> None:
    folder = RepositoryTree.of(["src/app/__init__.py", "src/app/mod.py", "tests/test_mod.py/keep"])
    under_file = RepositoryTree.of(["src/app/__init__.py", "src/app/sub/mod.py", "tests/sub"])

    with pytest.raises(
        errors.InvalidLayout, match=r"^test path tests/test_mod\.py of app\.mod is a folder"
    ):
        layout_profile.component_paths(SRC, "app.mod", folder)
    with pytest.raises(errors.InvalidLayout, match="is under tests/sub, which is a file"):
        layout_profile.component_paths(SRC, "app.sub.mod", under_file)


def test_the_existing_test_file_is_found_and_support_files_stay_in_its_folder() -> None:
    profile = replace(SRC, test_style=TestStyle.IN_PACKAGE)
    tree = RepositoryTree.of(["src/app/__init__.py", "src/app/mod.py", "src/app/tests/test_mod.py"])

    paths = layout_profile.component_paths(profile, "app.mod", tree)

    assert (
        layout_profile.existing_test_file(profile, "app.mod", tree) == "src/app/tests/test_mod.py"
    )
    assert (paths.test_exists, paths.support_dir) == (True, "src/app/tests")
    assert layout_profile.existing_test_file(profile, "app.other", tree) is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"test_style": "sideways"}, "setting test_style must be mirrored, flat or in_package"),
        ({"include_private": "yes"}, "setting include_private must be true or false"),
        ({"elixir_layout": "umbrella"}, "setting elixir_layout must be phoenix or library"),
        ({"tests_root": "../x"}, "setting tests_root '../x' is outside the repository"),
        ({"source_root": "/src"}, "setting source_root '/src' is outside the repository"),
        ({"source_root": 3}, "setting source_root must be"),
    ],
)
def test_bad_layout_settings_are_refused_naming_the_setting(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(errors.InvalidInput, match=message):
        layout_settings.check_settings(settings)


def test_project_settings_override_what_is_detected() -> None:
    files = [
        "code/app/__init__.py",
        "code/app/mod.py",
        "tests/test_mod.py",
        "src/other/__init__.py",
    ]
    settings = {"source_root": "code", "test_style": "mirrored", "tests_root": "qa"}

    profile = layout_detection.detect(Layout.PYTHON, RepositoryTree.of(files), {}, settings)

    assert profile.package_folders == {"app": "code/app"}
    assert layout_profile.test_path(profile, "app.sub.mod") == "qa/sub/test_mod.py"
    assert profile.tests_from.startswith("project settings")


def test_an_elixir_library_setting_makes_lib_app_the_context() -> None:
    files = {
        "mix.exs": "defmodule Lib.MixProject do\n  def project, do: [app: :lib_x]\nend\n",
        "lib/lib_x.ex": "",
        "lib/lib_x/codec.ex": "",
        "lib/lib_x/codec/json.ex": "",
    }
    tree = RepositoryTree.of(files)

    detected = layout_detection.detect(Layout.PHOENIX, tree, files)
    chosen = layout_detection.detect(Layout.PHOENIX, tree, files, {"elixir_layout": "library"})

    # lib/lib_x/codec.ex next to lib/lib_x/codec/ looks like a Phoenix context...
    assert detected.elixir_layout is ElixirLayout.PHOENIX
    # ...unless the project says it is a library.
    assert (chosen.elixir_layout, chosen.app) == (ElixirLayout.LIBRARY, "lib_x")
    assert (
        layout_profile.test_path(chosen, "LibX.Codec.Json", tree)
        == "test/lib_x/codec/json_test.exs"
    )


def test_mix_test_paths_move_elixir_tests() -> None:
    mix = 'defmodule A.MixProject do\n  def project, do: [app: :a, test_paths: ["spec"]]\nend\n'
    tree = RepositoryTree.of(["mix.exs", "lib/a.ex", "lib/a/b.ex"])

    profile = layout_detection.detect(Layout.PHOENIX, tree, {"mix.exs": mix})

    assert layout_profile.test_path(profile, "A.B", tree) == "spec/a/b_test.exs"


@pytest.mark.parametrize(
    ("test_file", "folder"),
    [
        ("tests/accounts/test_user.py", "tests"),
        ("toolz/sandbox/tests/test_core.py", "toolz/sandbox/tests"),
        ("test/eex/compiler_test.exs", "test"),
        ("qa/test_mod.py", "qa"),
        ("test_mod.py", "."),
    ],
)
def test_the_prompt_names_the_test_folder_an_agent_may_add_support_files_to(
    test_file: str, folder: str
) -> None:
    assert prompt.tests_root(test_file) == folder
