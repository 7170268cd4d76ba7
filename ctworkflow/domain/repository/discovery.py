"""Component discovery, the pure part: a commit's files become contexts and components.

Where to look follows the repository's layout profile
(:class:`ctworkflow.domain.repository.layout_profile.LayoutProfile`): :mod:`python_scan` for Python
packages, :mod:`elixir_scan` for the Phoenix and library layouts of a mix project. Both leave
out what is not a component and say why (:class:`Skipped`); a scan that finds nothing says why
in :attr:`Scan.nothing_found`.

:func:`plan` compares what was found with what is registered: it matches modules by name, and
a registered module whose file git reports as renamed follows its file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ctworkflow import errors
from ctworkflow.domain.model import Component
from ctworkflow.domain.repository import elixir_scan, layout_profile, python_scan
from ctworkflow.domain.repository.layout_profile import LayoutProfile
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.repository.repository_tree import RepositoryTree
from ctworkflow.domain.repository.scan_result import (
    CONTEXT,
    MODULE,
    Found,
    Scan,
    Skipped,
    summarize_skipped,
)

__all__ = [
    "CONTEXT",
    "MODULE",
    "Found",
    "Plan",
    "Rename",
    "Scan",
    "Skipped",
    "plan",
    "scan",
    "summarize_skipped",
]


def scan(
    profile: LayoutProfile, tree: RepositoryTree, sources: Mapping[str, str] | None = None
) -> Scan:
    """The contexts and components of a commit under its layout profile.

    ``sources`` holds, for Elixir, the ``defmodule`` lines of
    :func:`ctworkflow.domain.repository.elixir_layout.candidates` (only those are read); for
    Python, the :data:`~ctworkflow.domain.repository.python_scan.OWN_CODE_LINE` lines of the
    packages' ``__init__.py``
    (:func:`~ctworkflow.domain.repository.python_scan.own_code_candidates`).

    Raises:
        InvalidLayout: a component's source or test file is a symlink out of the repository,
            or its test path is a folder.
    """
    if profile.layout is Layout.PHOENIX:
        return elixir_scan.scan(profile, tree, sources or {})
    return python_scan.scan(profile, tree, sources or {})


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
    profile: LayoutProfile,
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
        target = _rename_target(profile, component, renamed_paths or {}, found_by_path)
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
    profile: LayoutProfile,
    component: Component,
    renamed_paths: Mapping[str, str],
    found_by_path: Mapping[str, Found],
) -> Found | None:
    """The found module a registered component's file was renamed to, if any."""
    try:
        old_path = _own_path(profile, component)
    except errors.InvalidModuleName:
        return None
    new_path = renamed_paths.get(old_path)
    target = found_by_path.get(new_path) if new_path is not None else None
    return target if target is not None and target.type == component.type else None


def _own_path(profile: LayoutProfile, component: Component) -> str:
    """The file a registered component was found in."""
    if profile.layout is Layout.PYTHON and component.type == CONTEXT:
        layout_profile.source_path(profile, component.module_name)  # checks the name
        return f"{layout_profile.package_folder(profile, component.module_name)}/__init__.py"
    return layout_profile.source_path(profile, component.module_name)
