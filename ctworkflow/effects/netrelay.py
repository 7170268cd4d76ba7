"""Inside a sandbox with the network: bridge loopback ports to the proxy's unix socket, then
run the program.

Run as ``python -I -S netrelay.py SOCKET PROXY_PORT [PORT=HOST:PORT ...] -- ARGV...`` by
bubblewrap in an empty network namespace (:mod:`.sandbox`). It listens on ``127.0.0.1``:

- ``PROXY_PORT``: each connection is joined to the proxy (``HTTP_PROXY`` names this port);
- each ``PORT=HOST:PORT``: each connection is joined to the proxy after asking it for
  ``CONNECT HOST:PORT``, so a program that connects to an allowed loopback service (a local
  model server) directly, without the proxy, reaches it at the address it knows.

It starts ``ARGV`` as its child and exits with the child's status. The standard library only:
this file runs with whatever interpreter runs the worker, without ctworkflow importable.
"""

from __future__ import annotations

import os
import selectors
import socket
import sys
import threading

_CHUNK = 64 * 1024
_LOOPBACK = "127.0.0.1"


def _join(client: socket.socket, proxy_path: str, target: str | None) -> None:
    with client, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as proxy:
        try:
            proxy.connect(proxy_path)
            if target is not None and not _tunnel(proxy, target):
                return
            _copy(client, proxy)
        except OSError:
            return


def _tunnel(proxy: socket.socket, target: str) -> bool:
    proxy.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode("ascii"))
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = proxy.recv(1)  # byte by byte: what follows the head belongs to the client
        if not chunk or len(answer) > 16 * 1024:
            return False
        answer += chunk
    return answer.split(b" ", 2)[1:2] == [b"200"]


def _copy(one: socket.socket, other: socket.socket) -> None:
    peers = {one: other, other: one}
    open_ = set(peers)
    with selectors.DefaultSelector() as selector:
        for sock in peers:
            selector.register(sock, selectors.EVENT_READ)
        while open_:
            for key, _ in selector.select():
                source = key.fileobj
                assert isinstance(source, socket.socket)
                data = source.recv(_CHUNK)
                if data:
                    peers[source].sendall(data)
                    continue
                peers[source].shutdown(socket.SHUT_WR)
                selector.unregister(source)
                open_.discard(source)


def _accept(listener: socket.socket, proxy_path: str, target: str | None) -> None:
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_join, args=(client, proxy_path, target), daemon=True).start()


def _listen(port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((_LOOPBACK, port))
    listener.listen(64)
    return listener


def _status(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.waitstatus_to_exitcode(status)


def main(args: list[str]) -> int:
    """Listen, start the program, wait for it; its exit status."""
    split = args.index("--")
    options, argv = args[:split], args[split + 1 :]
    proxy_path, proxy_port, forwards = options[0], int(options[1]), options[2:]
    listeners: list[tuple[socket.socket, str | None]] = [(_listen(proxy_port), None)]
    for forward in forwards:
        port, _, address = forward.partition("=")
        try:
            listeners.append((_listen(int(port)), address))
        except OSError:
            continue  # a port this namespace may not take: the proxy still reaches it
    child = os.fork()  # before any thread starts
    if child == 0:
        try:
            os.execvp(argv[0], argv)
        except OSError as error:
            said = f"ctworkflow sandbox: execvp {argv[0]}: {error.strerror}\n"
            os.write(2, said.encode(errors="replace"))
            os._exit(127)
    for listener, target in listeners:
        threading.Thread(target=_accept, args=(listener, proxy_path, target), daemon=True).start()
    _, status = os.waitpid(child, 0)
    return _status(status)


if __name__ == "__main__":
    sys.stdout.flush()
    os._exit(main(sys.argv[1:]))
