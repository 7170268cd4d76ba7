"""Discovery of a mix project: contexts and components under the Phoenix or library layout.

A file's module is the ``defmodule`` in it whose source belongs in that file
(``MyApp.Accounts.User`` in ``lib/my_app/accounts/user.ex``; ``EEx.SmartEngine`` in
``lib/eex/smart_engine.ex``, as the file is named by its segments, not by ``Macro.underscore``'s
``e_ex``): ``lib/eex.ex`` opens with ``EEx.SyntaxError`` and then defines ``EEx``, which is the
one kept. A file with no such module
is skipped with the reason, since every later step derives paths from the module name.

- Phoenix: ``lib/<app>/<ctx>.ex`` is a context when its folder ``lib/<app>/<ctx>/`` holds
  ``.ex`` files; those are its components.
- Library: ``lib/<app>.ex`` is the context; every module under ``lib/<app>/`` a component, and
  so is ``lib/<app>.ex``'s own code when it defines a public function (``<App>.__init__``, see
  :data:`ctworkflow.domain.repository.layouts.PACKAGE_OWN`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Final

from ctworkflow.domain.repository import elixir_layout, layout_profile, layouts
from ctworkflow.domain.repository.layout_profile import ElixirLayout, LayoutProfile
from ctworkflow.domain.repository.repository_tree import RepositoryTree
from ctworkflow.domain.repository.scan_result import (
    CONTEXT,
    MODULE,
    Found,
    Scan,
    Skipped,
    summarize_skipped,
)

_DEFMODULE: Final = re.compile(r"^\s*defmodule\s+([A-Z][A-Za-z0-9_.]*)\s+do\b", re.MULTILINE)
#: A public function definition (``defp`` is private, ``defmodule`` no function).
_DEF: Final = re.compile(r"^\s*def\s", re.MULTILINE)


def module_of(
    profile: LayoutProfile, tree: RepositoryTree, path: str, source: str
) -> str | Skipped:
    """The module ``path`` holds (the defmodule whose source is ``path``), or why none."""
    defined = _DEFMODULE.findall(source)
    if not defined:
        return Skipped(path=path, reason="no defmodule found")
    for module in defined:
        if layout_profile.source_path(profile, module, tree) == path:
            return str(module)
    expected = layout_profile.source_path(profile, defined[0], tree)
    return Skipped(path=path, reason=f"defines {defined[0]}, whose source belongs in {expected}")


def scan(profile: LayoutProfile, tree: RepositoryTree, sources: Mapping[str, str]) -> Scan:
    """The contexts and components of a mix project under its profile.

    Raises:
        InvalidLayout: a source or test file is a symlink out of the repository, or a test
            path is a folder.
    """
    library = profile.elixir_layout is ElixirLayout.LIBRARY
    main = f"lib/{profile.app}.ex" if library and profile.app else None
    found: dict[str, Found] = {}  # by path
    skipped: list[Skipped] = []
    for path in elixir_layout.candidates(profile, tree):
        module = module_of(profile, tree, path, sources.get(path, ""))
        if isinstance(module, Skipped):
            skipped.append(module)
            continue
        is_context = path == main if library else len(PurePosixPath(path).parts) == 3
        owner = main if library else f"{PurePosixPath(path).parent}.ex"
        parent = None if is_context else found.get(owner or "")
        if not is_context and parent is None:
            skipped.append(Skipped(path=path, reason="its context file was skipped"))
            continue
        tree.check_inside(path, "source file")
        paths = None if is_context else layout_profile.component_paths(profile, module, tree)
        found[path] = Found(
            module_name=module,
            name=module.rsplit(".", 1)[-1],
            type=CONTEXT if is_context else MODULE,
            path=path,
            parent_module=parent.module_name if parent else None,
            test_path=paths.test if paths else None,
            test_exists=paths.test_exists if paths else False,
        )
    if main is not None and main in found and _DEF.search(sources.get(main, "")):
        members_of_main = [f for f in found.values() if f.parent_module == found[main].module_name]
        if members_of_main:  # a context with modules: its own code is one more component
            found[f"{main}#own"] = _own(profile, tree, found[main])
    used = {f.parent_module for f in found.values() if f.parent_module}
    contexts = [f for f in found.values() if f.type == CONTEXT and f.module_name in used]
    members = [f for f in found.values() if f.type == MODULE]
    nothing = None if contexts else _nothing_found(profile, skipped)
    return Scan(found=(*contexts, *members), skipped=tuple(skipped), nothing_found=nothing)


def _own(profile: LayoutProfile, tree: RepositoryTree, context: Found) -> Found:
    """The component of a library's main module's own code (``EEx.__init__``: ``lib/eex.ex``),
    tested where that module's tests go (``test/eex_test.exs``)."""
    module = f"{context.module_name}.{layouts.PACKAGE_OWN}"
    paths = layout_profile.component_paths(profile, module, tree)
    return Found(
        module_name=module,
        name=context.name,
        type=MODULE,
        path=context.path,
        parent_module=context.module_name,
        test_path=paths.test,
        test_exists=paths.test_exists,
    )


def _nothing_found(profile: LayoutProfile, skipped: list[Skipped]) -> str:
    if profile.elixir_layout is ElixirLayout.LIBRARY:
        app = profile.app or "<app>"
        where = f"no library context: no lib/{app}.ex with modules under lib/{app}/"
    else:
        where = (
            "no Phoenix context: no lib/<app>/<name>.ex next to a folder lib/<app>/<name>/ of"
            " .ex files, and no library lib/<app>.ex with modules under lib/<app>/"
        )
    return f"{where} ({summarize_skipped(skipped)})" if skipped else where
