"""Loopback services for the network tests: an allowed stand-in model server and a service
no run may reach, and the probe a sandboxed run uses to try both (``network_probe.py``)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PROBE = Path(__file__).with_name("network_probe.py")
#: What the stand-in model server answers.
STANDIN_ANSWER = b"stand-in model"
#: What the loopback service that no allow-list names says to whoever connects.
BANNER = b"LOOPBACK-SERVICE\n"


class _Answer(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(STANDIN_ANSWER)))
        self.end_headers()
        self.wfile.write(STANDIN_ANSWER)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def standin_server() -> Iterator[int]:
    """An HTTP server on loopback that stands for a local model server; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def loopback_service() -> Iterator[int]:
    """A TCP service on loopback that greets every connection with :data:`BANNER`."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with client:
                client.sendall(BANNER)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accept
        listener.close()


def greeting(port: int) -> bytes:
    """What a service on loopback ``port`` says first to a PING from this host."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64)
