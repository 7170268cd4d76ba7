"""Component discovery, the pure part: a repository's files become contexts and components.

Phoenix: ``lib/<app>/<name>.ex`` is a context when ``lib/<app>/<name>/`` holds ``.ex`` files;
those files are its components. A file's module is the first ``defmodule`` in it, and a file is
kept only where the layout would look for that module's source (``MyApp.Accounts.User`` in
``lib/my_app/accounts/user.ex``), since every later step derives paths from the module name.

Python: a package (a directory whose ``__init__.py`` chain reaches the repository root) is a
context when it holds modules; its modules (``*.py`` other than dunder files) are its
components. Top-level ``tests``, ``test``, ``docs`` and hidden directories are never packages.

:func:`plan` compares what was found with what is registered: it matches modules by name, and
a registered module whose file git reports as renamed follows its file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Final

from ctworkflow import errors
from ctworkflow.domain import layouts
from ctworkflow.domain.layouts import Layout
from ctworkflow.domain.model import Component

CONTEXT: Final = "context"
MODULE: Final = "module"
#: Top-level directories that never hold a Python context.
_NOT_PACKAGES: Final = frozenset({"tests", "test", "docs", "build", "dist", "venv"})
_DEFMODULE: Final = re.compile(r"^\s*defmodule\s+([A-Z][A-Za-z0-9_.]*)\s+do\b", re.MULTILINE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Found:
    """A context or component found in the repository."""

    module_name: str
    name: str
    type: str
    path: str
    parent_module: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped:
    """A file that looked like a component but could not be one, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Scan:
    """Everything found in one commit: contexts first, then their components."""

    found: tuple[Found, ...]
    skipped: tuple[Skipped, ...]


def phoenix_candidates(paths: Iterable[str]) -> list[str]:
    """The files whose source :func:`scan` needs for a Phoenix repository."""
    files = set(paths)
    dirs = {str(PurePosixPath(p).parent) for p in files if _depth_ex(p, 4)}
    contexts = [p for p in files if _depth_ex(p, 3) and p.removesuffix(".ex") in dirs]
    members = [p for p in files if _depth_ex(p, 4) and f"{PurePosixPath(p).parent}.ex" in files]
    return sorted([*contexts, *members])


def _depth_ex(path: str, depth: int) -> bool:
    parts = PurePosixPath(path).parts
    return len(parts) == depth and parts[0] == "lib" and path.endswith(".ex")


def scan(layout: Layout, paths: Iterable[str], sources: Mapping[str, str] | None = None) -> Scan:
    """Map a commit's file paths (and, for Phoenix, candidate sources) to contexts and modules."""
    if layout is Layout.PHOENIX:
        return _scan_phoenix(paths, sources or {})
    return _scan_python(paths)


def _scan_phoenix(paths: Iterable[str], sources: Mapping[str, str]) -> Scan:
    found: dict[str, Found] = {}  # by path
    skipped: list[Skipped] = []
    for path in phoenix_candidates(paths):
        match = _DEFMODULE.search(sources.get(path, ""))
        if match is None:
            skipped.append(Skipped(path=path, reason="no defmodule found"))
            continue
        module = match.group(1)
        expected = layouts.source_file_path(Layout.PHOENIX, module)
        if expected != path:
            skipped.append(
                Skipped(path=path, reason=f"defines {module}, whose source belongs in {expected}")
            )
            continue
        is_context = _depth_ex(path, 3)
        parent = None if is_context else found.get(f"{PurePosixPath(path).parent}.ex")
        if not is_context and parent is None:
            skipped.append(Skipped(path=path, reason="its context file was skipped"))
            continue
        found[path] = Found(
            module_name=module,
            name=module.rsplit(".", 1)[-1],
            type=CONTEXT if is_context else MODULE,
            path=path,
            parent_module=parent.module_name if parent else None,
        )
    contexts = [f for f in found.values() if f.type == CONTEXT]
    used = {f.parent_module for f in found.values() if f.parent_module}
    members = [f for f in found.values() if f.type == MODULE]
    return Scan(
        found=(*(c for c in contexts if c.module_name in used), *members),
        skipped=tuple(skipped),
    )


def _packages(files: set[str]) -> set[str]:
    """Directories whose ``__init__.py`` chain reaches the root, minus excluded trees."""
    inits = {str(PurePosixPath(p).parent) for p in files if PurePosixPath(p).name == "__init__.py"}
    packages: set[str] = set()
    for directory in inits:
        parts = PurePosixPath(directory).parts
        if directory == "." or parts[0] in _NOT_PACKAGES:
            continue
        if any(part.startswith(".") for part in parts):
            continue
        if all("/".join(parts[:end]) in inits for end in range(1, len(parts))):
            packages.add(directory)
    return packages


def _scan_python(paths: Iterable[str]) -> Scan:
    files = set(paths)
    packages = _packages(files)
    contexts: list[Found] = []
    members: list[Found] = []
    skipped: list[Skipped] = []
    for package in sorted(packages):
        package_module = package.replace("/", ".")
        modules: list[Found] = []
        for path in sorted(f for f in files if str(PurePosixPath(f).parent) == package):
            stem = PurePosixPath(path).name
            if not stem.endswith(".py") or stem.startswith("__"):
                continue
            module = f"{package_module}.{stem.removesuffix('.py')}"
            try:
                layouts.validate_module_name(Layout.PYTHON, module)
            except errors.InvalidModuleName:
                skipped.append(Skipped(path=path, reason=f"{module!r} is not a module name"))
                continue
            modules.append(
                Found(
                    module_name=module,
                    name=module.rsplit(".", 1)[-1],
                    type=MODULE,
                    path=path,
                    parent_module=package_module,
                )
            )
        if modules:
            contexts.append(
                Found(
                    module_name=package_module,
                    name=package_module.rsplit(".", 1)[-1],
                    type=CONTEXT,
                    path=f"{package}/__init__.py",
                )
            )
            members.extend(modules)
    return Scan(found=(*contexts, *members), skipped=tuple(skipped))


@dataclass(frozen=True, slots=True, kw_only=True)
class Rename:
    """A registered component whose source file moved: it keeps its id and history."""

    component: Component
    to: Found


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """How to bring the registered components in line with a scan."""

    added: tuple[Found, ...]
    renamed: tuple[Rename, ...]
    removed: tuple[Component, ...]
    unchanged: tuple[tuple[Component, Found], ...]


def plan(
    layout: Layout,
    scan_result: Scan,
    registered: Sequence[Component],
    renamed_paths: Mapping[str, str] | None = None,
) -> Plan:
    """Compare a scan with the registered components (removed ones included)."""
    by_module = {c.module_name: c for c in registered}
    found_by_module = {f.module_name: f for f in scan_result.found}
    found_by_path = {f.path: f for f in scan_result.found}
    unchanged: list[tuple[Component, Found]] = []
    added: list[Found] = []
    for item in scan_result.found:
        existing = by_module.get(item.module_name)
        if existing is not None and not existing.removed:
            unchanged.append((existing, item))
    claimed = {c.module_name for c, _ in unchanged}
    renamed: list[Rename] = []
    removed: list[Component] = []
    for component in registered:
        if component.removed or component.module_name in found_by_module:
            continue
        target = _rename_target(layout, component, renamed_paths or {}, found_by_path)
        if target is not None and target.module_name not in by_module:
            renamed.append(Rename(component=component, to=target))
            claimed.add(target.module_name)
        else:
            removed.append(component)
    added = [f for f in scan_result.found if f.module_name not in claimed]
    return Plan(
        added=tuple(added),
        renamed=tuple(renamed),
        removed=tuple(removed),
        unchanged=tuple(unchanged),
    )


def _rename_target(
    layout: Layout,
    component: Component,
    renamed_paths: Mapping[str, str],
    found_by_path: Mapping[str, Found],
) -> Found | None:
    """The found module a registered component's file was renamed to, if any."""
    try:
        old_path = _own_path(layout, component)
    except errors.InvalidModuleName:
        return None
    new_path = renamed_paths.get(old_path)
    target = found_by_path.get(new_path) if new_path is not None else None
    return target if target is not None and target.type == component.type else None


def _own_path(layout: Layout, component: Component) -> str:
    """The file a registered component was found in."""
    if layout is Layout.PYTHON and component.type == CONTEXT:
        return component.module_name.replace(".", "/") + "/__init__.py"
    return layouts.source_file_path(layout, component.module_name)
