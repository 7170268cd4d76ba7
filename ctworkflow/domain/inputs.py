"""Checks of user-supplied values, done before anything is written."""

from __future__ import annotations

import unicodedata
from typing import Final

from ctworkflow import errors

NAME_MAX: Final = 255


def check_name(value: object, what: str = "name", *, max_length: int = NAME_MAX) -> str:
    """Return ``value`` stripped, or raise InvalidName saying what is wrong with it."""
    if not isinstance(value, str):
        raise errors.InvalidName(f"{what} must be text, got {type(value).__name__}")
    name = value.strip()
    if not name:
        raise errors.InvalidName(f"{what} is empty")
    if len(name) > max_length:
        raise errors.InvalidName(f"{what} is {len(name)} characters long; at most {max_length}")
    bad = sorted({c for c in name if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn")})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:5])
        raise errors.InvalidName(f"{what} {_preview(name)} holds control characters: {shown}")
    return name


def _preview(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def check_int(value: object, what: str, *, minimum: int | None = None) -> int:
    """Return ``value`` if it is an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.InvalidInput(f"{what} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise errors.InvalidInput(f"{what} must be at least {minimum}, got {value}")
    return value
