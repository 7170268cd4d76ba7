"""Helpers of the HTTP tests: the real server in a subprocess, tokens, a loopback receiver."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from ctworkflow.domain.model import Scope
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import tokens
from tests.servers import free_port

CTW = Path(sys.executable).with_name("ctw")


@dataclass
class Server:
    """A running ``ctw serve``."""

    url: str
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text()[-3000:] if self.log.exists() else ""


@contextmanager
def running_server(log_dir: Path, **env: str) -> Iterator[Server]:
    """``ctw serve`` on a free loopback port with this process's ``CTW_*`` settings (and
    ``env`` on top), stopped at the end; fails with its log if it does not come up in 30 s."""
    port = free_port()
    log = log_dir / f"serve-{port}.log"
    environment = {**os.environ, **env}
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(CTW), "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    server = Server(url=f"http://127.0.0.1:{port}", log=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{server.url}/healthz", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"ctw serve did not start:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def token_for(scope: Scope, name: str = "backend", *, project_only: bool = False) -> str:
    """A new API token of the scope's account (bound to its project if asked); its secret."""
    with unit_of_work() as uow:
        _, secret = tokens.create_token(
            uow, scope.account_id, name, project_id=scope.project_id if project_only else None
        )
    return secret


@dataclass
class Received:
    """One request a receiver got."""

    at: float
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A loopback webhook receiver; ``answers`` says the status of each request in turn (the
    last one repeats)."""

    answers: list[int] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def wait_for(self, count: int, timeout_s: float = 60) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver got {len(self.received)} of {count} requests")
            time.sleep(0.1)
        return list(self.received)

    def events(self) -> list[str]:
        return [json.loads(r.body)["event"] for r in self.received]


@contextmanager
def receiving(answers: list[int] | None = None) -> Iterator[Receiver]:
    """Run a :class:`Receiver` on a free loopback port while the block runs."""
    receiver = Receiver(answers=answers or [200])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            index = len(receiver.received)
            receiver.received.append(Received(time.monotonic(), dict(self.headers), body))
            self.send_response(receiver.answers[min(index, len(receiver.answers) - 1)])
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll until true; fail past the deadline."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.2)
