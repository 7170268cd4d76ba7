"""The project's own pytest configuration: where its test command collects tests, and which files.

pytest reads the first of these at the repository root that holds its section, and so do we:
``pytest.ini`` (always), ``.pytest.ini``, ``pyproject.toml`` ``[tool.pytest.ini_options]``,
``tox.ini`` ``[pytest]``, ``setup.cfg`` ``[tool:pytest]``. Two settings matter here:
``testpaths`` (where a bare ``pytest`` looks; a new test file must be under one of them to be
collected) and ``python_files`` (the names of test files; a new test file must match one).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ctworkflow import errors
from ctworkflow.domain.repository import config_files, layout_profile
from ctworkflow.domain.repository.config_files import inside

#: The files pytest may read its settings from, in the order it tries them.
FILES: Final = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
DEFAULT_PYTHON_FILES: Final = layout_profile.DEFAULT_TEST_FILES


@dataclass(frozen=True, slots=True, kw_only=True)
class PytestConfig:
    """The pytest settings that say where tests are collected."""

    #: The file and section they came from, or None when pytest runs on its defaults.
    source: str | None = None
    #: Folders a bare ``pytest`` collects from (``""`` is the root); () when not configured.
    testpaths: tuple[str, ...] = ()
    python_files: tuple[str, ...] = DEFAULT_PYTHON_FILES


def read_pytest_config(configs: Mapping[str, str]) -> PytestConfig:
    """pytest's settings from the root configuration files present in ``configs``.

    Raises:
        InvalidLayout: the file pytest would read does not parse, or a test path leaves the
            repository.
    """
    for filename in FILES:
        text = configs.get(filename)
        if text is None:
            continue
        if filename == "pyproject.toml":
            table = config_files.parse_toml(text, filename).get("tool", {}).get("pytest")
            if not isinstance(table, Mapping):
                continue
            options = table.get("ini_options", table)
            if not isinstance(options, Mapping):
                continue
            section = "[tool.pytest.ini_options]" if "ini_options" in table else "[tool.pytest]"
            return _config(
                f"{filename} {section}",
                _toml_args(options.get("testpaths"), f"{filename} {section} testpaths"),
                _toml_args(options.get("python_files"), f"{filename} {section} python_files"),
            )
        section = {"tox.ini": "pytest", "setup.cfg": "tool:pytest"}.get(filename, "pytest")
        parser = config_files.parse_cfg(text, filename)
        if not parser.has_section(section):
            if filename in ("pytest.ini", ".pytest.ini"):
                return PytestConfig(source=filename)  # pytest.ini counts even when empty
            continue
        return _config(
            f"{filename} [{section}]",
            _ini_args(parser.get(section, "testpaths", fallback="")),
            _ini_args(parser.get(section, "python_files", fallback="")),
        )
    return PytestConfig()


def collects(config: PytestConfig, path: str) -> bool:
    """Tell whether a bare ``pytest`` looks at ``path`` (under a test path, or none is set)."""
    if not config.testpaths:
        return True
    return any(not root or path == root or path.startswith(root + "/") for root in config.testpaths)


def _config(source: str, testpaths: tuple[str, ...], python_files: tuple[str, ...]) -> PytestConfig:
    checked = tuple(inside(path, f"{source} testpaths") for path in testpaths)
    return PytestConfig(
        source=source,
        testpaths=tuple(dict.fromkeys(checked)),
        python_files=python_files or DEFAULT_PYTHON_FILES,
    )


def _ini_args(value: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(value))
    except ValueError:
        return tuple(value.split())


def _toml_args(value: Any, setting: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return _ini_args(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise errors.InvalidLayout(f"{setting} must be a list of strings")
