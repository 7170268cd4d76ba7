"""Ids given by a prefix, as people copy them from a table: which ids a prefix stands for. Pure.

A prefix of the canonical form (``6d302ade-efc``, or its digits alone, ``6d302adeefc``)
stands for every id between the prefix padded with ``0`` and the prefix padded with ``f``;
that range is what a store looks up (an index range, the same on PostgreSQL's ``uuid`` and on
SQLite's hexadecimal text). Short prefixes are refused: they would match too much by chance.
"""

from __future__ import annotations

import string
import uuid
from dataclasses import dataclass
from typing import Final

from ctworkflow import errors
from ctworkflow.domain.inputs import preview

#: Fewest hexadecimal digits a prefix must have (as git asks of abbreviated commits).
MIN_DIGITS: Final = 4


@dataclass(frozen=True, slots=True)
class IdRange:
    """The ids that begin with a prefix: from ``low`` to ``high``, both included."""

    prefix: str
    low: uuid.UUID
    high: uuid.UUID


def parse(text: str) -> uuid.UUID | IdRange | None:
    """A whole id, the range of ids a prefix stands for, or None if ``text`` is neither."""
    value = text.strip().lower()
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    digits = value.replace("-", "")
    if not MIN_DIGITS <= len(digits) < 32 or not set(digits) <= set(string.hexdigits):
        return None
    low = uuid.UUID(digits.ljust(32, "0"))
    if not (str(low).startswith(value) or value == digits):  # dashes where an id has none
        return None
    return IdRange(prefix=value, low=low, high=uuid.UUID(digits.ljust(32, "f")))


def parse_id_or_prefix(text: str, what: str) -> uuid.UUID | IdRange:
    """A whole id or a prefix of one; raise InvalidInput naming ``what`` otherwise."""
    found = parse(text)
    if found is None:
        raise errors.InvalidInput(
            f"{what} {preview(text)} is not a valid id (nor an id prefix of at least "
            f"{MIN_DIGITS} hexadecimal digits)"
        )
    return found


def pick(prefix: IdRange, matches: list[uuid.UUID], what: str) -> uuid.UUID | None:
    """The one id a prefix matched, None if it matched none; raise InvalidInput if several."""
    if len(matches) > 1:
        raise errors.InvalidInput(
            f"{what} prefix {prefix.prefix!r} is ambiguous: it begins more than one {what}; "
            "give more of the id"
        )
    return matches[0] if matches else None
