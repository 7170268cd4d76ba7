"""Checks of user-supplied values, done before anything is written: the one place for them.

Every surface (the Python API, the catalog and sessions use cases, the Celery entry task, the
CLI, the HTTP API) calls these plain functions on what it is handed, so a value the database
would refuse, or that would misbehave later, is refused first with a typed error
(:class:`~ctworkflow.errors.InvalidInput` and its kinds) and one line naming the field.
Lengths and ranges are the schema's (``persistence/tables.py``).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from pathlib import PurePosixPath
from typing import Final
from urllib.parse import urlsplit

from ctworkflow import errors
from ctworkflow.domain import naming

#: The schema's ``String(255)`` columns: names, user ids, idempotency keys, branches.
NAME_MAX: Final = 255
#: The schema's integer columns are 32-bit.
INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
#: Fan-out rounds a session may ask for (a retry adds the settings' budget on top).
MAX_ATTEMPTS: Final = 1000
#: Sessions one listing returns at most.
MAX_LIST_LIMIT: Final = 10_000
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


def check_int(
    value: object,
    what: str,
    *,
    minimum: int | None = INT32_MIN,
    maximum: int | None = INT32_MAX,
) -> int:
    """Return ``value`` if it is an integer (not a bool) from ``minimum`` to ``maximum``.

    The bounds default to the schema's 32-bit integers.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.InvalidInput(f"{what} must be an integer, got {preview(repr(value))}")
    if minimum is not None and value < minimum:
        raise errors.InvalidInput(f"{what} must be at least {minimum}, got {_short(value)}")
    if maximum is not None and value > maximum:
        raise errors.InvalidInput(f"{what} must be at most {maximum}, got {_short(value)}")
    return value


def _short(number: int) -> str:
    text = str(number)
    return text if len(text) <= 24 else f"a number of {len(text)} digits"


def check_user_id(value: object) -> str:
    """The user recorded on the sessions a request starts."""
    return check_name(value, "user id")


def check_max_attempts(value: object) -> int:
    """How many fan-out rounds a session may run."""
    return check_int(value, "max_attempts", minimum=1, maximum=MAX_ATTEMPTS)


def check_priority(value: object) -> int:
    """A component's priority (higher runs first)."""
    return check_int(value, "priority")


def check_limit(value: object) -> int:
    """How many rows a listing returns."""
    return check_int(value, "limit", minimum=1, maximum=MAX_LIST_LIMIT)


def check_context_name(value: object, what: str = "context name") -> str:
    """A context's name, which must leave something to build its branch name from.

    Raises:
        InvalidBranchName: no letter or digit is left once the name is made safe for git.
    """
    name = check_name(value, what, multiline=True)
    try:
        naming.branch_name(name)
    except errors.InvalidBranchName:
        raise errors.InvalidBranchName(
            f"{what} {preview(name)} has no letter or digit to build a branch name from"
        ) from None
    return name


#: What ``git check-ref-format`` refuses anywhere in a ref (besides control characters).
_REF_FORBIDDEN: Final = re.compile(r"[ ~^:?*\[\\]|\.\.|@\{|//")


def check_branch(value: object, what: str = "default branch") -> str:
    """A branch name, checked the way ``git check-ref-format --branch`` does.

    Raises:
        InvalidBranchName: git would refuse it, or take it for an option.
    """
    name = check_name(value, what)
    reason = _branch_problem(name)
    if reason is not None:
        raise errors.InvalidBranchName(f"{what} {preview(name)} is not a branch name: {reason}")
    return name


def _branch_problem(name: str) -> str | None:
    """Why git would refuse ``refs/heads/<name>``, or None."""
    if name.startswith("-"):
        return "it starts with '-'"
    if name in ("@", "HEAD"):
        return f"{name!r} is reserved"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "it holds control characters"
    found = _REF_FORBIDDEN.search(name)
    if found is not None:
        return f"it holds {found.group()!r}"
    if name.startswith("/") or name.endswith(("/", ".")):
        return "it starts with '/' or ends with '/' or '.'"
    for part in name.split("/"):
        if part.startswith(".") or part.endswith(".lock"):
            return "a part starts with '.' or ends with '.lock'"
    return None


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


# -- repository addresses ----------------------------------------------------------------------

SCHEMES: Final = frozenset({"https", "http", "ssh", "git", "file"})
#: ``user@host:path``, git's scp-like form of an SSH address.
_SCP_LIKE: Final = re.compile(
    r"^(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+):(?!//)(?P<path>\S.*)$"
)
CREDENTIALS_REFUSED: Final = (
    "the repository address carries credentials (user:token@); remove them and let the "
    "workers authenticate with their own git credential helper or SSH key"
)
QUERY_REFUSED: Final = (
    "the repository address has a query or a fragment (?… or #…), where tokens hide; remove "
    "it and let the workers authenticate with their own git credential helper or SSH key"
)


def check_repository(address: object) -> str:
    """Return a repository address that is safe to store and hand to git, or raise.

    Workers authenticate with their own git configuration (credential helper, SSH agent), so
    an address never carries a secret: one with ``user:token@``, a query (``?private_token=``)
    or a fragment is refused, in words that do not repeat the token. Git's remote helpers
    (``ext::``, ``fd::`` …) run commands, and a host, user or path that starts with ``-`` would
    be read as an option (``ssh://-oProxyCommand=…``): all are refused too.

    Raises:
        InvalidRepository: naming what is wrong with the address.
    """
    text = check_name(address, "repository", max_length=4096)
    if text.startswith("-"):
        raise errors.InvalidRepository("the repository address must not start with '-'")
    if "://" in text:
        return _check_url(text)
    if "::" in text:
        raise errors.InvalidRepository(
            "git remote helpers (transport::address) are not accepted as a repository"
        )
    scp = _SCP_LIKE.match(text)
    if scp is not None:
        if "?" in text or "#" in text:
            raise errors.InvalidRepository(QUERY_REFUSED)
        for part in ("user", "host", "path"):
            _no_option(scp.group(part), part)
        return text
    if text.startswith("/"):
        return text
    raise errors.InvalidRepository(
        "the repository must be a URL (https, ssh, git, file), user@host:path, or an absolute path"
    )


def _check_url(text: str) -> str:
    try:
        parts = urlsplit(text)
        password = parts.password
        username = parts.username
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise errors.InvalidRepository("the repository URL cannot be parsed") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise errors.InvalidRepository(
            f"repository URL scheme {scheme!r} is not one of {', '.join(sorted(SCHEMES))}"
        )
    if password is not None or (username is not None and scheme in ("http", "https")):
        raise errors.InvalidRepository(CREDENTIALS_REFUSED)
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise errors.InvalidRepository(QUERY_REFUSED)
    host = parts.netloc.rpartition("@")[2]
    if scheme != "file" and not parts.hostname:
        raise errors.InvalidRepository("the repository URL names no host")
    _no_option(username or "", "user")
    _no_option(host, "host")
    for segment in parts.path.split("/"):
        _no_option(segment, "path")
    return text


def _no_option(part: str, what: str) -> None:
    """Refuse a part of an address that a program could take for an option."""
    if part.startswith("-"):
        raise errors.InvalidRepository(
            f"the repository {what} must not start with '-' (it would be read as an option)"
        )
