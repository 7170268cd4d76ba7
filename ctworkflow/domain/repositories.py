"""Which repository addresses a project may have. Pure.

Workers authenticate with their own git configuration (credential helper, SSH agent), so an
address never carries a secret: one with ``user:token@`` in it is refused, in words that do not
repeat the token. Git's remote helpers (``ext::``, ``fd::`` …) run commands, and an address that
starts with ``-`` would be read as an option: both are refused too.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

from ctworkflow import errors
from ctworkflow.domain.inputs import check_name

SCHEMES: Final = frozenset({"https", "http", "ssh", "git", "file"})
#: ``user@host:path``, git's scp-like form of an SSH address.
_SCP_LIKE: Final = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!//)\S")
CREDENTIALS_REFUSED: Final = (
    "the repository address carries credentials (user:token@); remove them and let the "
    "workers authenticate with their own git credential helper or SSH key"
)


def check_repository(address: object) -> str:
    """Return a repository address that is safe to store and hand to git, or raise."""
    text = check_name(address, "repository", max_length=4096)
    if text.startswith("-"):
        raise errors.InvalidRepository("the repository address must not start with '-'")
    if "://" in text:
        return _check_url(text)
    if "::" in text:
        raise errors.InvalidRepository(
            "git remote helpers (transport::address) are not accepted as a repository"
        )
    if _SCP_LIKE.match(text) or text.startswith("/"):
        return text
    raise errors.InvalidRepository(
        "the repository must be a URL (https, ssh, git, file), user@host:path, or an absolute path"
    )


def _check_url(text: str) -> str:
    try:
        parts = urlsplit(text)
        password = parts.password
        username = parts.username
    except ValueError:
        raise errors.InvalidRepository("the repository URL cannot be parsed") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise errors.InvalidRepository(
            f"repository URL scheme {scheme!r} is not one of {', '.join(sorted(SCHEMES))}"
        )
    if password is not None or (username is not None and scheme in ("http", "https")):
        raise errors.InvalidRepository(CREDENTIALS_REFUSED)
    if scheme != "file" and not parts.hostname:
        raise errors.InvalidRepository("the repository URL names no host")
    return text


def local_path(address: str) -> str | None:
    """The folder of a repository on this host's file system, if the address is one."""
    if address.startswith("/"):
        return address
    if address.lower().startswith("file://"):
        return urlsplit(address).path
    return None
