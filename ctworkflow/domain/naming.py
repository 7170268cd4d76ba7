"""Git branch names derived from a context's name.

A context testing session works on its own branch, ``BRANCH_PREFIX`` followed by the context's
name made safe for git and for a shell: lowercased, every character other than ``a-z``, ``0-9``,
``-`` and ``_`` replaced by ``-``, runs of ``-`` collapsed, leading and trailing ``-`` trimmed,
and the whole name capped at :data:`MAX_BRANCH_LENGTH` characters.

Collisions: two contexts of a project whose names give the same branch (``a.tests`` and
``b.tests``, both named ``tests``) must not share it. The first context whose session uses a
name keeps it; a later context gets that name followed by ``-`` and the first
:data:`SUFFIX_DIGITS` hexadecimal digits of the SHA-256 of its module name (unique in the
project, so the suffix is the same every time; longer digests only if even that is taken).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from typing import Final

from ctworkflow import errors

BRANCH_PREFIX: Final = "test-context-testing-session-for-"

#: Longest branch name produced; well below git's and the file systems' limits on a ref.
MAX_BRANCH_LENGTH: Final = 200

#: Hexadecimal digits of the module name's digest that tell colliding contexts apart.
SUFFIX_DIGITS: Final = 8

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


def branch_candidates(context_name: str, module_name: str) -> list[str]:
    """The names a context's branch may have, in the order the collision rule tries them."""
    seed = branch_name(context_name)
    digest = hashlib.sha256(module_name.encode()).hexdigest()
    names = [seed]
    for digits in (SUFFIX_DIGITS, 16, len(digest)):
        suffix = f"-{digest[:digits]}"
        names.append(seed[: MAX_BRANCH_LENGTH - len(suffix)].rstrip("-") + suffix)
    return names


def context_branch(context_name: str, module_name: str, *, taken: Collection[str]) -> str:
    """The branch of a context, given the branches other contexts of its project use.

    The seed's :func:`branch_name` unless another context uses it; then the collision rule of
    this module's docstring.
    """
    for candidate in branch_candidates(context_name, module_name):
        if candidate not in taken:
            return candidate
    raise errors.InvalidBranchName(
        f"every branch name of context {module_name!r} is used by another context"
    )
