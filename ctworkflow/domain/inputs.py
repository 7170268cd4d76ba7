"""Checks of user-supplied values, done before anything is written."""

from __future__ import annotations

import unicodedata
import uuid
from pathlib import PurePosixPath
from typing import Final

from ctworkflow import errors

NAME_MAX: Final = 255
#: Unicode categories refused in names: control, surrogate (undecodable bytes), private use,
#: unassigned.
_FORBIDDEN: Final = frozenset({"Cc", "Cs", "Co", "Cn"})


def check_name(
    value: object, what: str = "name", *, max_length: int = NAME_MAX, multiline: bool = False
) -> str:
    """Return ``value`` stripped, or raise InvalidName saying what is wrong with it.

    ``multiline`` admits line breaks (a component's display name may hold them; it is data,
    never code, and goes to git through stdin).
    """
    if not isinstance(value, str):
        raise errors.InvalidName(f"{what} must be text, got {type(value).__name__}")
    name = value.strip()
    if not name:
        raise errors.InvalidName(f"{what} is empty")
    if len(name) > max_length:
        raise errors.InvalidName(f"{what} is {len(name)} characters long; at most {max_length}")
    allowed = {"\n"} if multiline else set()
    bad = sorted({c for c in name if unicodedata.category(c) in _FORBIDDEN and c not in allowed})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:5])
        raise errors.InvalidName(f"{what} {preview(name)} holds control characters: {shown}")
    return name


def preview(value: str, limit: int = 40) -> str:
    """A value as quoted in an error message: its repr, cut short."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def check_int(value: object, what: str, *, minimum: int | None = None) -> int:
    """Return ``value`` if it is an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.InvalidInput(f"{what} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise errors.InvalidInput(f"{what} must be at least {minimum}, got {value}")
    return value


def check_relative_path(value: str, what: str = "path") -> str:
    """Return a relative POSIX path that stays inside its root, or raise InvalidInput."""
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts or "\\" in value or "\x00" in value:
        raise errors.InvalidInput(
            f"{what} {preview(value)} must be relative and stay inside the repository"
        )
    return value


def parse_id(value: object, what: str = "id") -> uuid.UUID:
    """Return ``value`` as a UUID, or raise InvalidInput naming it."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value.strip())
        except ValueError:
            pass
    raise errors.InvalidInput(f"{what} {preview(str(value))} is not a valid id")
