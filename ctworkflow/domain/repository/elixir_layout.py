"""An Elixir (mix) repository's layout profile: the Phoenix layout or the library layout.

``mix.exs`` names the application (``app: :eex``) and, rarely, ``test_paths``; mix runs
``test/**/*_test.exs`` by default, with ``test/`` mirroring ``lib/``, so
``EEx.Compiler`` (``lib/eex/compiler.ex``) is tested in ``test/eex/compiler_test.exs``.

Which files are contexts:

- ``phoenix``: ``lib/<app>/<ctx>.ex`` next to a folder ``lib/<app>/<ctx>/`` of ``.ex`` files
  (a Phoenix context and its schemas and services). Chosen whenever the repository has one.
- ``library``: ``lib/<app>.ex`` (the library's main module), its components every module under
  ``lib/<app>/``. Chosen when there is no Phoenix context and ``lib/<app>/`` holds ``.ex`` files.

``mix.exs`` is read as text (a few literal keywords), never run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any, Final

from ctworkflow.domain.repository import layout_profile, layout_settings
from ctworkflow.domain.repository.config_files import inside
from ctworkflow.domain.repository.layout_profile import ElixirLayout, LayoutProfile
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.repository.repository_tree import RepositoryTree

MIX_EXS: Final = "mix.exs"
CONFIG_FILES: Final = (MIX_EXS,)
_APP: Final = re.compile(r"\bapp:\s*:([a-z_][A-Za-z0-9_]*)")
_TEST_PATHS: Final = re.compile(r"\btest_paths:\s*\[([^\]]*)\]")
_STRING: Final = re.compile(r'"([^"\\]*)"')


def read_app(mix_exs: str | None) -> str | None:
    """The application name ``mix.exs`` declares (``app: :my_app``), if it declares one."""
    match = _APP.search(mix_exs or "")
    return match.group(1) if match else None


def read_test_paths(mix_exs: str | None) -> tuple[str, ...]:
    """The literal ``test_paths: [...]`` of ``mix.exs`` ((``"test"``,) by default)."""
    match = _TEST_PATHS.search(mix_exs or "")
    if match is None:
        return ("test",)
    found = tuple(inside(p, f"{MIX_EXS} test_paths") for p in _STRING.findall(match.group(1)))
    return tuple(p for p in found if p) or ("test",)


def _ex_depth(path: str, depth: int) -> bool:
    parts = PurePosixPath(path).parts
    return len(parts) == depth and parts[0] == "lib" and path.endswith(".ex")


def phoenix_contexts(tree: RepositoryTree) -> list[str]:
    """``lib/<app>/<ctx>.ex`` files next to a folder ``lib/<app>/<ctx>/`` holding ``.ex`` files."""
    folders = {str(PurePosixPath(p).parent) for p in tree.files if _ex_depth(p, 4)}
    return sorted(p for p in tree.files if _ex_depth(p, 3) and p.removesuffix(".ex") in folders)


def library_members(tree: RepositoryTree, app: str) -> list[str]:
    """Every ``.ex`` file under ``lib/<app>/``, at any depth."""
    prefix = f"lib/{app}/"
    return sorted(p for p in tree.files if p.startswith(prefix) and p.endswith(".ex"))


def _library_app(tree: RepositoryTree, app: str | None) -> str | None:
    """The app whose ``lib/<app>.ex`` has modules under ``lib/<app>/`` (mix.exs's first)."""
    if app is not None:
        return app if tree.is_file(f"lib/{app}.ex") and library_members(tree, app) else None
    for path in sorted(p for p in tree.files if _ex_depth(p, 2)):
        name = PurePosixPath(path).stem
        if library_members(tree, name):
            return name
    return None


def detect(
    tree: RepositoryTree, configs: Mapping[str, str], settings: Mapping[str, Any] | None = None
) -> LayoutProfile:
    """The layout profile of a mix project at one commit.

    Raises:
        InvalidLayout: ``mix.exs`` names a test path outside the repository.
        InvalidInput: a layout setting is invalid.
    """
    chosen = layout_settings.check_settings(settings or {})
    mix = configs.get(MIX_EXS)
    declared = read_app(mix)
    library_app = _library_app(tree, declared)
    if "elixir_layout" in chosen:
        style = ElixirLayout(chosen["elixir_layout"])
        source = "project setting elixir_layout"
    elif phoenix_contexts(tree) or library_app is None:
        style, source = ElixirLayout.PHOENIX, "lib/<app>/<context>.ex files next to their folder"
    else:
        style, source = ElixirLayout.LIBRARY, f"lib/{library_app}.ex and lib/{library_app}/"
    profile = LayoutProfile(
        layout=Layout.PHOENIX,
        source_root="lib",
        tests_root=read_test_paths(mix)[0],
        test_name=layout_profile.ELIXIR_TEST_NAME,
        elixir_layout=style,
        app=library_app or declared,
        packages_from=source,
        tests_from=f"{MIX_EXS}" if mix and _TEST_PATHS.search(mix) else "mix's default test/",
    )
    return layout_settings.with_settings(profile, chosen)


def candidates(profile: LayoutProfile, tree: RepositoryTree) -> list[str]:
    """The files whose ``defmodule`` lines discovery reads, under the profile's layout."""
    if profile.elixir_layout is ElixirLayout.LIBRARY:
        app = profile.app or ""
        main = f"lib/{app}.ex"
        return [main, *library_members(tree, app)] if app and tree.is_file(main) else []
    contexts = phoenix_contexts(tree)
    owners = {c.removesuffix(".ex") for c in contexts}
    members = [p for p in tree.files if _ex_depth(p, 4) and str(PurePosixPath(p).parent) in owners]
    return sorted([*contexts, *members])
