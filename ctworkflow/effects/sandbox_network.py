"""The network of a sandboxed run that has one: an allow-list, a proxy, and nothing else.

A run with the network gets an empty network namespace like every other run; what it reaches
goes through a filtering proxy (:mod:`.netproxy`) that this worker serves, for that run alone,
on a unix socket bound into the sandbox, where a relay (:mod:`.netrelay`) bridges it to a
loopback port named by ``HTTP_PROXY``/``HTTPS_PROXY``. A program that ignores those variables
has no route anywhere. See docs/security.md.

The allow-list of a run: the project's ``network_allow``, and for an environment build the
package indexes this worker is configured with (:func:`index_hosts`). Never reached, whatever
the list says: the worker's own broker, result backend and database (:func:`worker_services`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from ctworkflow.config import Settings, get_settings
from ctworkflow.domain import network
from ctworkflow.effects import netproxy

__all__ = ["INDEX_DEFAULTS", "Network", "index_hosts", "serving", "worker_services"]

#: The package indexes a build reaches when the worker names none: PyPI and Hex.
INDEX_DEFAULTS: Final = (
    "pypi.org",
    "files.pythonhosted.org",
    "hex.pm",
    "repo.hex.pm",
    "builds.hex.pm",
)
#: The variables that name the package indexes pip, uv and mix use.
INDEX_VARIABLES: Final = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_INDEX",
    "UV_FIND_LINKS",
    "HEX_MIRROR",
)
#: Where the proxy's socket is seen inside the sandbox (its private ``/tmp``).
INSIDE: Final = Path("/tmp/.ctw-network")
_SOCKET_NAME: Final = "proxy.sock"
_PROXY_PORT: Final = 3128
_DEFAULT_PORTS: Final = {
    "redis": 6379,
    "rediss": 6379,
    "sentinel": 26379,
    "amqp": 5672,
    "amqps": 5671,
    "postgres": 5432,
    "postgresql": 5432,
    "mysql": 3306,
}


@dataclass(frozen=True, slots=True)
class Network:
    """What the sandbox needs to reach the proxy: its socket's folder, the loopback port the
    relay listens on, and the allowed loopback services it forwards as they are."""

    folder: Path
    proxy_port: int
    forwards: tuple[tuple[int, str], ...]

    def relay_arguments(self) -> list[str]:
        """The relay's arguments before ``--`` (:mod:`.netrelay`)."""
        return [
            str(INSIDE / _SOCKET_NAME),
            str(self.proxy_port),
            *(f"{port}={target}" for port, target in self.forwards),
        ]

    def variables(self) -> dict[str, str]:
        """The variables that send a program's HTTP(S) through the proxy."""
        proxy = f"http://127.0.0.1:{self.proxy_port}"
        direct = ",".join(dict.fromkeys(target.rpartition(":")[0] for _, target in self.forwards))
        names = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
        found = dict.fromkeys(names, proxy)
        # Forwarded loopback services are reached as they are, not through the proxy.
        found.update({"NO_PROXY": direct, "no_proxy": direct})
        return found


def index_hosts(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The package index hosts of this worker: the defaults and every configured index's."""
    environ = os.environ if environ is None else environ
    hosts = list(INDEX_DEFAULTS)
    for name in INDEX_VARIABLES:
        for url in environ.get(name, "").split():
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") and parts.hostname:
                host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
                hosts.append(f"{host}:{parts.port}" if parts.port else host)
    return tuple(dict.fromkeys(hosts))


def worker_services(settings: Settings) -> tuple[network.Endpoint, ...]:
    """The addresses and ports of this worker's broker, result backend and database."""
    found: list[network.Endpoint] = []
    urls = (settings.celery_broker_url, settings.celery_result_backend, settings.sqlalchemy_url)
    for url in urls:
        for each in url.split(";"):  # a broker URL may list fail-over brokers
            found += _endpoints(each.strip())
    return tuple(dict.fromkeys(found))


def _endpoints(url: str) -> list[network.Endpoint]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return []
    scheme = parts.scheme.split("+")[-1 if parts.scheme.startswith("db+") else 0]
    port = port or _DEFAULT_PORTS.get(scheme.lower())
    if not parts.hostname or port is None:
        return []
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return [network.Endpoint(network.ip_address(str(i[4][0])), port) for i in infos]


def _forwards(allow: Iterable[str], proxy_port: int) -> tuple[tuple[int, str], ...]:
    """The allowed loopback services named with a port: forwarded at the same port inside."""
    found: dict[int, str] = {}
    for entry in allow:
        rule = network.parse_entry(entry)
        if rule.host is None:
            continue
        port = network.split_host_port(entry.strip())[1]
        if port is None or port == proxy_port:
            continue
        if rule.host == "localhost" or _is_loopback(rule.host):
            shown = f"[{rule.host}]" if ":" in rule.host else rule.host
            found.setdefault(port, f"{shown}:{port}")
    return tuple(sorted(found.items()))


def _is_loopback(host: str) -> bool:
    try:
        return network.ip_address(host).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def serving(allow: Sequence[str], settings: Settings | None = None) -> Iterator[Network]:
    """The proxy of one run, allowing ``allow``, served while the block runs."""
    settings = settings or get_settings()
    rules = [network.parse_entry(entry) for entry in allow]
    forbidden = worker_services(settings)
    folder = Path(tempfile.mkdtemp(prefix="ctw-network-"))
    try:
        with netproxy.serving(folder / _SOCKET_NAME, rules, forbidden):
            forwards = _forwards(allow, _PROXY_PORT)
            yield Network(folder=folder, proxy_port=_PROXY_PORT, forwards=forwards)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
