"""Repository layouts: valid module names, and the seed's default source and test paths.

Paths are POSIX paths relative to the repository root. What a real repository uses is its
layout profile (:mod:`ctworkflow.domain.repository.layout_profile`), read from its own
configuration; the functions below are the seed's naming, which a repository with nothing
configured keeps.

Phoenix (Elixir): a module ``MyApp.Accounts.User`` is underscored the way Elixir's
``Macro.underscore`` does it (``my_app/accounts/user``); its source is ``lib/<that>.ex`` and its
test ``test/<that>_test.exs``.

Python: a module ``pkg.accounts.user`` has its source at ``pkg/accounts/user.py``. Tests mirror
the package tree below the top-level package: drop the first dotted segment, the remaining
parent segments are the directories under ``tests/`` and the file is ``test_<last segment>.py``,
so ``pkg.accounts.user`` is tested in ``tests/accounts/test_user.py``, ``pkg.user`` in
``tests/test_user.py`` and a top-level module ``util`` in ``tests/test_util.py``.

Module names are validated before any path is built: they are ASCII, 1 to 255 characters long
and made of dot-separated identifiers, so ``..``, ``/``, whitespace and control characters can
never reach a path.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from ctworkflow import errors
from ctworkflow.domain.inputs import preview


class Layout(StrEnum):
    """How a repository lays out its source and test files."""

    PHOENIX = "phoenix"
    PYTHON = "python"


MAX_MODULE_NAME_LENGTH: Final = 255

_MODULE_NAME_RULES: Final[dict[Layout, tuple[re.Pattern[str], str]]] = {
    Layout.PHOENIX: (
        # ``.__init__`` ends the name of a context module's own code (:data:`PACKAGE_OWN`).
        re.compile(r"[A-Z][A-Za-z0-9_]*(?:\.[A-Z][A-Za-z0-9_]*)*(?:\.__init__)?"),
        "dot-separated segments, each an ASCII uppercase letter followed by ASCII letters,"
        " digits or underscores (e.g. MyApp.Accounts.User)",
    ),
    Layout.PYTHON: (
        re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"),
        "dot-separated ASCII identifiers (e.g. pkg.accounts.user)",
    ),
}


#: Folders tools write while they build or test (mix compiles into ``_build``, Python caches
#: bytecode): never a change an agent made to the code. Python's may sit at any depth.
_BUILD_ROOTS: Final[dict[Layout, frozenset[str]]] = {
    Layout.PHOENIX: frozenset({"_build", "deps", ".elixir_ls"}),
    Layout.PYTHON: frozenset({".pytest_cache", ".mypy_cache", ".ruff_cache"}),
}
_BUILD_ANYWHERE: Final[dict[Layout, frozenset[str]]] = {
    Layout.PHOENIX: frozenset(),
    Layout.PYTHON: frozenset({"__pycache__"}),
}


def is_build_output(layout: Layout, path: str) -> bool:
    """Tell whether a repository-relative path is build or cache output of the layout's tools."""
    parts = path.split("/")
    return parts[0] in _BUILD_ROOTS[layout] or any(
        part in _BUILD_ANYWHERE[layout] for part in parts[:-1]
    )


def parse_layout(value: str) -> Layout:
    """Return the layout named by value, or raise UnknownLayout."""
    try:
        return Layout(value)
    except ValueError:
        expected = ", ".join(layout.value for layout in Layout)
        raise errors.UnknownLayout(
            f"unknown layout {preview(value)}: expected one of {expected}"
        ) from None


def _is_upper(char: str) -> bool:
    return "A" <= char <= "Z"


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def _lower(char: str) -> str:
    return char.lower() if _is_upper(char) else char


def underscore(module_name: str) -> str:
    """Return module_name underscored like Elixir's Macro.underscore, lowercased, `.` as `/`."""
    out: list[str] = []
    i = 0
    n = len(module_name)
    start = True  # at the start of the name or just after a ".": only lowercase
    prev = ""
    while i < n:
        char = module_name[i]
        if start:
            out.append(_lower(char))
            start = False
            prev = char
            i += 1
            continue
        nxt = module_name[i + 1] if i + 1 < n else ""
        if (
            _is_upper(char)
            and nxt
            and not _is_upper(nxt)
            and not _is_digit(nxt)
            and nxt not in "._"
        ):
            # End of an acronym or start of a word: "_h" and the next character as is.
            out.append("_" + _lower(char) + nxt)
            prev = nxt
            i += 2
        elif _is_upper(char) and not _is_upper(prev) and prev != "_":
            out.append("_" + _lower(char))
            prev = char
            i += 1
        elif char == ".":
            out.append("/")
            start = True
            i += 1
        else:
            out.append(_lower(char))
            prev = char
            i += 1
    return "".join(out).lower()


def validate_module_name(layout: Layout, module_name: str) -> str:
    """Return module_name if it is a valid module name for layout, else raise InvalidModuleName."""
    if not 1 <= len(module_name) <= MAX_MODULE_NAME_LENGTH:
        raise errors.InvalidModuleName(
            f"module name {preview(module_name)} must be 1 to {MAX_MODULE_NAME_LENGTH} characters"
            f" long, not {len(module_name)}"
        )
    pattern, rule = _MODULE_NAME_RULES[layout]
    if pattern.fullmatch(module_name) is None:
        raise errors.InvalidModuleName(
            f"module name {preview(module_name)} is not a {layout.value} module name: "
            f"expected {rule}"
        )
    return module_name


#: The last part of a component's module name that stands for a context module's own code: a
#: Python package's ``__init__.py`` (``shop.accounts.__init__`` is the code of
#: ``shop.accounts``), an Elixir library's ``lib/<app>.ex`` (``EEx.__init__`` is ``EEx``'s).
#: The context keeps the plain name (a module name is unique in a project, so the two need
#: names of their own); the component is imported, read and tested as the plain name.
PACKAGE_OWN: Final = "__init__"


def import_name(module_name: str) -> str:
    """The name a module is imported (or loaded) by: the context module's for its own code
    (``shop.__init__`` is imported as ``shop``, ``EEx.__init__`` is ``EEx``), else the name
    itself."""
    return module_name.removesuffix(f".{PACKAGE_OWN}")


def source_file_path(layout: Layout, module_name: str) -> str:
    """Return the repository-relative path of the module's source file."""
    validate_module_name(layout, module_name)
    if layout is Layout.PHOENIX:
        return f"lib/{underscore(module_name)}.ex"
    return "/".join(module_name.split(".")) + ".py"


def test_file_path(layout: Layout, module_name: str) -> str:
    """Return the repository-relative path of the module's test file."""
    validate_module_name(layout, module_name)
    if layout is Layout.PHOENIX:
        return f"test/{underscore(module_name)}_test.exs"
    *parents, last = module_name.split(".")
    return "/".join(["tests", *parents[1:], f"test_{last}.py"])


# Not a test, despite its name: keeps pytest from collecting it where a test module imports it.
test_file_path.__test__ = False  # type: ignore[attr-defined]
