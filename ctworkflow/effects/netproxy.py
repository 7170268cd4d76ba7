"""The filtering forward proxy a sandboxed run's network goes through, on a unix socket.

A run with the network gets an empty network namespace: it reaches nothing but this proxy,
whose socket is bound into the sandbox and bridged to a loopback port there
(:mod:`.netrelay`). The proxy takes ``CONNECT host:port`` (HTTPS, or any TCP stream) and
plain HTTP requests (``GET http://host/...``); it resolves the host itself, asks
:func:`ctworkflow.domain.network.decide` whether every address may be reached, connects to the
address it checked (never resolving again), and relays the bytes. Anything else gets
``403 Forbidden`` with the reason in one line, and the connection is closed.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from ctworkflow import errors
from ctworkflow.domain import network

__all__ = ["serving"]

_log = logging.getLogger(__name__)

_MAX_HEAD: Final = 64 * 1024
_CONNECT_TIMEOUT_S: Final = 15.0
_CHUNK: Final = 64 * 1024
_HOP_HEADERS: Final = frozenset(
    {"connection", "proxy-connection", "keep-alive", "proxy-authorization", "te", "upgrade"}
)


class _Refused(Exception):
    """The request is not relayed: the status and the one line that says why."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status_line = status


@contextlib.contextmanager
def serving(
    path: Path, rules: Sequence[network.Rule], forbidden: Sequence[network.Endpoint]
) -> Iterator[None]:
    """Serve the proxy on the unix socket ``path`` while the block runs."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(64)
    stop = threading.Event()
    clients: set[socket.socket] = set()
    thread = threading.Thread(
        target=_accept,
        args=(listener, tuple(rules), tuple(forbidden), stop, clients),
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        # The run is over: end what it left open (a client that never sent its request).
        for sock in (listener, *list(clients)):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=5)


def _accept(
    listener: socket.socket,
    rules: tuple[network.Rule, ...],
    forbidden: tuple[network.Endpoint, ...],
    stop: threading.Event,
    clients: set[socket.socket],
) -> None:
    while not stop.is_set():
        try:
            client, _ = listener.accept()
        except OSError:
            return
        clients.add(client)
        threading.Thread(
            target=_tracked, args=(client, rules, forbidden, clients), daemon=True
        ).start()


def _tracked(
    client: socket.socket,
    rules: tuple[network.Rule, ...],
    forbidden: tuple[network.Endpoint, ...],
    clients: set[socket.socket],
) -> None:
    try:
        _serve(client, rules, forbidden)
    finally:
        clients.discard(client)


def _serve(
    client: socket.socket,
    rules: tuple[network.Rule, ...],
    forbidden: tuple[network.Endpoint, ...],
) -> None:
    with client:
        try:
            head, rest = _read_head(client)
            method, target, version, headers = _parse(head)
            if method == "CONNECT":
                host, port = _authority(target, default=None)
                established: bytes | None = b"HTTP/1.1 200 Connection established\r\n\r\n"
                first = rest
            else:
                host, port, path = _absolute(target)
                established = None
                first = _origin_request(method, path, version, headers) + rest
            upstream = _open(host, port, rules, forbidden)
        except _Refused as refused:
            _log.info("sandbox network: refused (%s)", refused)
            _answer(client, refused.status_line, str(refused))
            return
        except OSError:
            return
        with upstream, contextlib.suppress(OSError):
            if established is not None:
                client.sendall(established)
            _relay(client, upstream, first)


def _read_head(client: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _MAX_HEAD:
            raise _Refused("431 Request Header Fields Too Large", "the request head is too long")
        chunk = client.recv(_CHUNK)
        if not chunk:
            raise OSError("closed before the request head ended")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _parse(head: bytes) -> tuple[str, str, str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise _Refused("400 Bad Request", "not an HTTP request")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers.append((name.strip(), value.strip()))
    return parts[0].upper(), parts[1], parts[2], headers


def _authority(text: str, *, default: int | None) -> tuple[str, int]:
    try:
        host, port = network.split_host_port(text)
    except errors.InvalidInput as error:
        raise _Refused("400 Bad Request", str(error)) from None
    if port is None and default is None:
        raise _Refused("400 Bad Request", f"CONNECT {text}: no port")
    return host, port if port is not None else int(default or 0)


def _absolute(target: str) -> tuple[str, int, str]:
    scheme, sep, rest = target.partition("://")
    if not sep or scheme.lower() != "http":
        raise _Refused("400 Bad Request", f"only CONNECT and http:// requests: {target[:80]}")
    authority, slash, path = rest.partition("/")
    host, port = _authority(authority.rpartition("@")[2], default=80)
    return host, port, slash + path or "/"


def _origin_request(method: str, path: str, version: str, headers: list[tuple[str, str]]) -> bytes:
    kept = [f"{n}: {v}" for n, v in headers if n.lower() not in _HOP_HEADERS]
    lines = [f"{method} {path} {version}", *kept, "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _open(
    host: str,
    port: int,
    rules: tuple[network.Rule, ...],
    forbidden: tuple[network.Endpoint, ...],
) -> socket.socket:
    """A connection to ``host:port`` if every address it resolves to may be reached."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise _Refused("502 Bad Gateway", f"{host} cannot be resolved") from None
    addresses = list(dict.fromkeys(network.ip_address(str(info[4][0])) for info in infos))
    own = [a for a in addresses if _is_own(a)]
    reason = network.decide(host, port, addresses, rules, forbidden, own)
    if reason is not None:
        raise _Refused("403 Forbidden", reason)
    for family, kind, proto, _, address in infos:
        upstream = socket.socket(family, kind, proto)
        upstream.settimeout(_CONNECT_TIMEOUT_S)
        try:
            upstream.connect(address)
        except OSError:
            upstream.close()
            continue
        upstream.settimeout(None)
        return upstream
    raise _Refused("502 Bad Gateway", f"{host}:{port} does not answer")


def _is_own(address: network.IPAddress) -> bool:
    """Whether ``address`` is one of this host's (a service listening on every interface is
    reached at any of them): only a local address can be bound."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((str(address), 0))
        except OSError:
            return False
    return True


def _answer(client: socket.socket, status: str, reason: str) -> None:
    body = f"ctworkflow sandbox: {reason}\n".encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with contextlib.suppress(OSError):
        client.sendall(head + body)


def _relay(client: socket.socket, upstream: socket.socket, first: bytes) -> None:
    """Copy bytes both ways until both sides are done."""
    if first:
        upstream.sendall(first)
    peers = {client: upstream, upstream: client}
    open_ = set(peers)
    with selectors.DefaultSelector() as selector:
        for sock in peers:
            selector.register(sock, selectors.EVENT_READ)
        while open_:
            for key, _ in selector.select():
                source = key.fileobj
                assert isinstance(source, socket.socket)
                try:
                    data = source.recv(_CHUNK)
                    if data:
                        peers[source].sendall(data)
                        continue
                    peers[source].shutdown(socket.SHUT_WR)
                except OSError:
                    return
                selector.unregister(source)
                open_.discard(source)
