"""Helpers of the tests that run real Elixir: a mix project workspace, and a clear failure
when Elixir is missing (never a silent skip)."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.samples import MIX_PROJECT


def require_elixir() -> None:
    """Fail the test with the way to get Elixir when ``elixir`` or ``mix`` is missing."""
    missing = [tool for tool in ("elixir", "mix") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: install Debian's elixir package"
            " (apt-get install elixir), as .ci/run does"
        )


def mix_workspace(root: Path, files: Mapping[str, str]) -> Path:
    """A mix project without dependencies (app ``demo``) holding ``files``."""
    require_elixir()
    root.mkdir(parents=True, exist_ok=True)
    (root / "mix.exs").write_text(MIX_PROJECT.format(app_module="Demo", app="demo", deps="[]"))
    (root / "test").mkdir(exist_ok=True)
    (root / "test" / "test_helper.exs").write_text("ExUnit.start()\n")
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content))
    return root
