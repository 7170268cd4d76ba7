"""Credentials out of every text git hands back: URLs lose their userinfo."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s?#]*@")


def redact(url: str) -> str:
    """Return ``url`` without its credentials (userinfo becomes ``***``)."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        netloc = ""
    if "@" in netloc:
        url = url.replace(netloc, "***@" + netloc.rpartition("@")[2], 1)
    return scrub(url)


def scrub(text: str) -> str:
    """Replace the userinfo of every URL in ``text`` with ``***``."""
    return _USERINFO.sub(r"\g<scheme>***@", text)
