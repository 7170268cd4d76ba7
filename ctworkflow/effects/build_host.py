"""What a build on this host uses of it: its interpreter, uv, the installers' variables."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Final

__all__ = ["find_uv", "interpreter_tag"]


#: The worker's variables a build also gets: how this host reaches the package index (its
#: proxy, the certificates it trusts, a mirror). Never shown in the history, which keeps argv.
BUILD_ENV_ALLOW_LIST: Final = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_DEFAULT_TIMEOUT",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_INDEX",
    "UV_NATIVE_TLS",
    "UV_SYSTEM_CERTS",
    "HEX_MIRROR",
    "HEX_CACERTS_PATH",
    *(f"{name}_PROXY" for name in ("HTTP", "HTTPS", "ALL", "NO")),
    *(f"{name}_proxy" for name in ("http", "https", "all", "no")),
)


def interpreter_tag() -> str:
    """The worker's Python, as the environments it builds use it: ``cpython-3.11.7``."""
    version = ".".join(str(n) for n in sys.version_info[:3])
    return f"{sys.implementation.name}-{version}"


def find_uv() -> str | None:
    """uv, next to this interpreter (installed with ctworkflow) or on PATH."""
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("uv")


def base_python() -> str:
    """The interpreter virtual environments are made from: the worker's own, below any venv."""
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return str(base) if base.is_file() else sys.executable


def installer_variables(cache: Path) -> dict[str, str]:
    """What uv and pip are told in every build: the host's certificate store (as pip and git
    use it: a proxy's own CA, say), the shared download cache, and no prompt or progress bar."""
    return {
        "UV_SYSTEM_CERTS": "1",
        "UV_CACHE_DIR": str(cache / "uv"),
        "PIP_CACHE_DIR": str(cache / "pip"),
        "UV_NO_PROGRESS": "1",
        "PIP_NO_INPUT": "1",
    }


def network_config() -> dict[str, str]:
    return {name: os.environ[name] for name in BUILD_ENV_ALLOW_LIST if name in os.environ}
