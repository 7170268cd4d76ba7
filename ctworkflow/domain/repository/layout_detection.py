"""Detect a repository's layout profile from one commit: the entry point for either language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ctworkflow.domain.repository import elixir_layout, python_layout
from ctworkflow.domain.repository.layout_profile import LayoutProfile
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.repository.repository_tree import RepositoryTree

#: Root files read to detect a layout; none of them is larger than this (bytes).
MAX_CONFIG_BYTES: Final = 1024 * 1024


def config_files(layout: Layout) -> tuple[str, ...]:
    """The root configuration files detection reads for ``layout``."""
    return elixir_layout.CONFIG_FILES if layout is Layout.PHOENIX else python_layout.CONFIG_FILES


def detect(
    layout: Layout,
    tree: RepositoryTree,
    configs: Mapping[str, str],
    settings: Mapping[str, Any] | None = None,
) -> LayoutProfile:
    """The layout profile of a commit, given its tree and root configuration files.

    Raises:
        InvalidLayout: the configuration does not parse or leads out of the repository.
        InvalidInput: a layout setting of the project is invalid.
    """
    if layout is Layout.PHOENIX:
        return elixir_layout.detect(tree, configs, settings)
    return python_layout.detect(tree, configs, settings)
