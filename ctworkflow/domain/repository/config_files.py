"""A repository's configuration files: TOML and INI parsed, values looked up, paths kept inside."""

from __future__ import annotations

import configparser
import re
import tomllib
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from ctworkflow import errors


def parse_toml(text: str | None, filename: str) -> dict[str, Any]:
    """A TOML file's tables ({} if absent); InvalidLayout if it does not parse."""
    if text is None:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise errors.InvalidLayout(f"{filename} is not valid TOML: {error}") from None


def parse_cfg(text: str | None, filename: str) -> configparser.ConfigParser:
    """An INI file (setup.cfg, tox.ini, pytest.ini); InvalidLayout if it does not parse."""
    parser = configparser.ConfigParser(interpolation=None)
    if text is not None:
        try:
            parser.read_string(text, source=filename)
        except configparser.Error as error:
            first = str(error).splitlines()[0]
            raise errors.InvalidLayout(f"{filename} does not parse: {first}") from None
    return parser


def lookup(table: Mapping[str, Any], *keys: str) -> Any:
    """``table[k1][k2]...``, or None where a key is missing or a value is not a table."""
    value: Any = table
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def string_list(value: Any, setting: str) -> tuple[str, ...]:
    """A string or a list of strings as a tuple; InvalidLayout for anything else."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise errors.InvalidLayout(f"{setting} must be a list of strings")


def line_list(value: str) -> tuple[str, ...]:
    """A setup.cfg list: one item a line, or separated by commas."""
    return tuple(item.strip() for item in re.split(r"[\n,]", value) if item.strip())


def inside(path: str, setting: str) -> str:
    """``path`` normalised (``./src/`` is ``src``; the root is ``""``), if it stays inside.

    Raises:
        InvalidLayout: the path is absolute or climbs out of the repository.
    """
    cleaned = path.strip()
    pure = PurePosixPath(cleaned)
    if pure.is_absolute() or "\\" in cleaned or "\x00" in cleaned or ".." in pure.parts:
        raise errors.InvalidLayout(f"{setting} {cleaned!r} is outside the repository")
    normal = pure.as_posix()
    return "" if normal == "." else normal


def normalized_name(name: str) -> str:
    """A distribution name as an import name (``python-dateutil`` → ``python_dateutil``)."""
    return re.sub(r"[-_.]+", "_", name).lower()
