"""Git branch names derived from a context's name.

A context testing session works on its own branch, ``BRANCH_PREFIX`` followed by the context's
name made safe for git and for a shell: lowercased, every character other than ``a-z``, ``0-9``,
``-`` and ``_`` replaced by ``-``, runs of ``-`` collapsed, leading and trailing ``-`` trimmed,
and the whole name capped at :data:`MAX_BRANCH_LENGTH` characters.
"""

from __future__ import annotations

import re
from typing import Final

from ctworkflow import errors

BRANCH_PREFIX: Final = "test-context-testing-session-for-"

#: Longest branch name produced; well below git's and the file systems' limits on a ref.
MAX_BRANCH_LENGTH: Final = 200

_UNSAFE: Final = re.compile(r"[^a-z0-9_-]")
_DASHES: Final = re.compile(r"-{2,}")


def branch_name(context_name: str) -> str:
    """Return the session branch name for a context, or raise InvalidBranchName."""
    suffix = _UNSAFE.sub("-", context_name.lower())
    suffix = _DASHES.sub("-", suffix).strip("-")
    if not suffix:
        raise errors.InvalidBranchName(
            f"context name {context_name!r} has no letter or digit to build a branch name from"
        )
    suffix = suffix[: MAX_BRANCH_LENGTH - len(BRANCH_PREFIX)].rstrip("-")
    return BRANCH_PREFIX + suffix
