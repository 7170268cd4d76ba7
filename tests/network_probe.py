"""Run inside a sandbox: try to reach each target, directly and through the proxy; write what
happened as JSON; then run the rest of the command line, if any.

``python network_probe.py OUT SPEC [-- ARGV...]``: ``SPEC`` is JSON (or a file holding it),
``{"targets": {name: [host, port]}, "urls": {name: url}}``. Each target is tried with a plain
TCP connection (a program that ignores the proxy variables) and with ``CONNECT`` through
``HTTPS_PROXY``; each URL with urllib, which follows the proxy variables as most HTTP clients
do. Each result is
``reached: <what it answered>`` or ``refused: <why>``. The standard library only.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

TIMEOUT_S = 10.0


def _answer(sock: socket.socket) -> str:
    sock.sendall(b"PING\r\n")
    sock.settimeout(3)
    try:
        return sock.recv(64).decode("latin-1").strip()
    except OSError as error:
        return f"(no answer: {error})"


def direct(host: str, port: int) -> str:
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_S) as sock:
            return f"reached: {_answer(sock)}"
    except OSError as error:
        return f"refused: {type(error).__name__}: {error}"


def through_proxy(host: str, port: int) -> str:
    proxy = os.environ.get("HTTPS_PROXY")
    if not proxy:
        return "refused: no proxy"
    parts = urlsplit(proxy)
    try:
        with socket.create_connection(
            (parts.hostname or "", parts.port or 80), timeout=TIMEOUT_S
        ) as sock:
            sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(1)
                if not chunk:
                    break
                head += chunk
            status = head.decode("latin-1").split("\r\n")[0]
            if " 200 " not in f"{status} ":
                return f"refused: {status or 'closed'}"
            return f"reached: {_answer(sock)}"
    except OSError as error:
        return f"refused: {type(error).__name__}: {error}"


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return f"reached: {response.status} {response.read(64).decode('latin-1')!r}"
    except urllib.error.HTTPError as error:
        return f"refused: {error.code} {error.reason}"
    except (OSError, urllib.error.URLError) as error:
        return f"refused: {type(error).__name__}: {error}"


def main(args: list[str]) -> None:
    out, given = args[0], args[1]
    if given.startswith("{"):
        spec = json.loads(given)
    else:  # a file: an agent's command line is a template, where braces are placeholders
        with open(given, encoding="utf-8") as file:
            spec = json.load(file)
    results = {
        "direct": {name: direct(h, p) for name, (h, p) in spec.get("targets", {}).items()},
        "proxy": {name: through_proxy(h, p) for name, (h, p) in spec.get("targets", {}).items()},
        "urls": {name: fetch(url) for name, url in spec.get("urls", {}).items()},
    }
    with open(out, "w", encoding="utf-8") as file:
        json.dump(results, file, indent=1)
    if "--" in args:
        rest = args[args.index("--") + 1 :]
        os.execv(rest[0], rest)


if __name__ == "__main__":
    main(sys.argv[1:])
