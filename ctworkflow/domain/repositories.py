"""Which repository addresses a project may have. Pure.

The checks themselves are :func:`ctworkflow.domain.inputs.check_repository`, with every other
input check; this module adds what the catalog needs to know about an address.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ctworkflow.domain.inputs import CREDENTIALS_REFUSED, SCHEMES, check_repository

__all__ = ["CREDENTIALS_REFUSED", "SCHEMES", "check_repository", "local_path"]


def local_path(address: str) -> str | None:
    """The folder of a repository on this host's file system, if the address is one."""
    if address.startswith("/"):
        return address
    if address.lower().startswith("file://"):
        return urlsplit(address).path
    return None
