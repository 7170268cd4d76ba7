"""What a run with the network reaches: what the project's allow-list names (and, for a build,
the package index), never the worker's broker, its database or another loopback service.

One real session: the ``command`` agent and the repository's own ``setup.py`` (run by the
environment build) each run ``tests/network_probe.py`` in the real sandbox, which tries the
suite's Redis and PostgreSQL, a loopback service nobody allowed and the allowed stand-in
model server, both directly and through the proxy, and writes down what answered.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

from ctworkflow import errors
from ctworkflow.config import get_settings
from ctworkflow.domain import network
from ctworkflow.domain.states import SessionStatus
from ctworkflow.effects import netproxy
from ctworkflow.services.catalog import check_project_settings
from tests import servers
from tests.network_support import (
    BANNER,
    PROBE,
    STANDIN_ANSWER,
    greeting,
    loopback_service,
    standin_server,
)
from tests.workflow_support import FAKE_AGENT, make_project, wait_until_terminal

INDEX_URL = "https://pypi.org/simple/iniconfig/"

SETUP_PY = """\
import subprocess, sys
from setuptools import find_packages, setup

subprocess.run([sys.executable, {probe!r}, {out!r}, {spec!r}], check=False)
setup(name="shop", version="1.0", packages=find_packages(), install_requires=["iniconfig"])
"""


def probe_spec(redis_port: int, postgres_port: int, other_port: int, standin: int) -> str:
    targets = {
        "redis": ["127.0.0.1", redis_port],
        "postgres": ["127.0.0.1", postgres_port],
        "loopback": ["127.0.0.1", other_port],
        "standin": ["127.0.0.1", standin],
    }
    urls = {"standin": f"http://127.0.0.1:{standin}/", "index": INDEX_URL}
    return json.dumps({"targets": targets, "urls": urls})


def assert_only_the_allowed_answered(found: dict[str, dict[str, str]]) -> None:
    for name in ("redis", "postgres", "loopback"):
        # A program that ignores the proxy variables has no route at all ...
        assert found["direct"][name].startswith("refused: ConnectionRefusedError"), found
        # ... and the proxy refuses the service by name.
        assert found["proxy"][name].startswith("refused: HTTP/1.1 403"), found
    assert found["direct"]["standin"].startswith("reached:"), found
    assert found["proxy"]["standin"].startswith("reached:"), found
    assert found["urls"]["standin"] == "reached: 200 'stand-in model'", found


def test_an_agent_and_a_setup_py_reach_what_is_allowed_and_not_the_broker_or_database(
    workflow_db: str,
    tmp_path: Path,
    redis_server: servers.RedisServer,
    postgres_server: servers.PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The worker knows its broker: an allow-list entry naming it is refused outright.
    monkeypatch.setenv("CTW_BROKER_URL", redis_server.url(0))
    get_settings.cache_clear()
    with pytest.raises(errors.InvalidInput, match="the worker's own broker or database"):
        check_project_settings({"network_allow": [f"127.0.0.1:{redis_server.port}"]})
    build_out = get_settings().environments / "setup-py-probe.json"
    agent_out, spec_file = tmp_path / "agent-probe.json", tmp_path / "probe-spec.json"
    root = tmp_path / "shop"
    good_agent = [
        sys.executable,
        str(FAKE_AGENT),
        *("--plan", str(root / "plan.json"), "--state", str(root / "agent-state")),
        *("--module", "{module}", "--test-path", "{test_path}", "--prompt", "{prompt_file}"),
    ]
    with standin_server() as standin, loopback_service() as other:
        # Reached from this host, all answer: what the runs see is the sandbox's doing. (Redis
        # asks for its password: reached, a run would read "-NOAUTH", not be refused.)
        assert greeting(redis_server.port).startswith(b"-NOAUTH")
        assert greeting(other) == BANNER
        spec = probe_spec(redis_server.port, postgres_server.port, other, standin)
        spec_file.write_text(spec)
        project = make_project(
            root,
            modules=("user",),
            extra_files={
                "setup.py": SETUP_PY.format(probe=str(PROBE), out=str(build_out), spec=spec)
            },
            settings={
                "network_allow": [f"127.0.0.1:{standin}"],
                # The agent probes first, then writes good tests.
                "agent_argv": [
                    *(sys.executable, str(PROBE), str(agent_out), str(spec_file), "--"),
                    *good_agent,
                ],
                "agent_timeout_s": 120,
            },
        )
        project.plan({project.components[0].module_name: ["good"]})

        session = wait_until_terminal(project.scope, project.start().id, timeout_s=600)

    assert session.status is SessionStatus.COMPLETE, session.error
    by_build = json.loads(build_out.read_text())
    by_agent = json.loads(agent_out.read_text())
    assert_only_the_allowed_answered(by_build)
    assert_only_the_allowed_answered(by_agent)
    # The build reaches the package index (the worker's own); the agent, which needs only its
    # model, does not.
    assert by_build["urls"]["index"].startswith("reached: 200"), by_build
    refused = by_agent["urls"]["index"]
    assert refused.startswith("refused:") and "403 Forbidden" in refused, by_agent


def ask_proxy(socket_path: Path, request: bytes) -> bytes:
    """Send ``request`` to the proxy on ``socket_path``; all it answers until it closes."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(socket_path))
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def test_the_proxy_relays_plain_http_to_an_allowed_service_and_refuses_the_rest(
    tmp_path: Path,
) -> None:
    path = tmp_path / "proxy.sock"
    with standin_server() as standin, loopback_service() as other:
        allow = [network.parse_entry(f"127.0.0.1:{standin}")]
        with netproxy.serving(path, allow, forbidden=[]):
            allowed = ask_proxy(
                path,
                f"GET http://127.0.0.1:{standin}/v1/models HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{standin}\r\nProxy-Connection: keep-alive\r\n\r\n".encode(),
            )
            refused = ask_proxy(
                path, f"GET http://127.0.0.1:{other}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            )
            tunnel = ask_proxy(path, f"CONNECT 127.0.0.1:{other} HTTP/1.1\r\n\r\n".encode())
            garbage = ask_proxy(path, b"HELLO\r\n\r\n")

    assert allowed.startswith(b"HTTP/1.0 200") and allowed.endswith(STANDIN_ANSWER)
    for answer in (refused, tunnel):
        assert answer.startswith(b"HTTP/1.1 403 Forbidden")
        assert f"127.0.0.1:{other} is a private or loopback address".encode() in answer
        assert BANNER not in answer
    assert garbage.startswith(b"HTTP/1.1 400 Bad Request")
