"""The examples a user copies from the README and docs/, run as written against a real server.

A fenced block right after ``<!-- example: NAME -->`` is an example. Each runs as a user runs it
(a shell block in bash, a Python block in its own interpreter) against ``ctw serve``, a real
Celery worker and the suite's PostgreSQL and Redis; only the placeholders of hosts, ports, ids
and URLs are replaced, and each placeholder must be in its block. An example that drifts from
the code (a renamed option, a refused body, a task that takes other arguments) fails here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ctworkflow import api
from ctworkflow.cli.demo_sample import python_sample
from ctworkflow.config import get_settings
from ctworkflow.domain.model import Scope
from ctworkflow.domain.states import SessionStatus
from ctworkflow.persistence.db import unit_of_work
from tests import servers
from tests.cli_support import server_env
from tests.http_support import Server, receiving, running_server
from tests.workflow_support import wait_until_terminal

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"^<!-- example:", re.M)
EXAMPLE = re.compile(r"^<!-- example: ([\w-]+) -->\n```(\w+)\n(.*?)^```$", re.M | re.S)

#: Every example this test runs, and the page that holds it.
EXPECTED = {
    "cli-tour": "README.md",
    "http-tour": "README.md",
    "send-task": "README.md",
    "api-start": "api.md",
    "celery-status": "api.md",
    "webhook-create": "webhooks.md",
    "webhook-verifier": "webhooks.md",
}


@dataclass(frozen=True)
class Example:
    """One marked block: its page, language and code."""

    page: str
    language: str
    code: str

    def with_values(self, values: dict[str, str]) -> str:
        """The code with each placeholder replaced; a placeholder the block lacks fails."""
        code = self.code
        for placeholder, value in values.items():
            assert placeholder in code, f"{placeholder!r} is no longer in the example"
            code = code.replace(placeholder, value)
        return code


def examples() -> dict[str, Example]:
    """Every marked example of the README and docs/, by name."""
    found: dict[str, Example] = {}
    for page in PAGES:
        text = page.read_text()
        matches = EXAMPLE.findall(text)
        assert len(matches) == len(MARKER.findall(text)), (
            f"{page.name}: a marker not before a block"
        )
        for name, language, code in matches:
            assert name not in found, f"example {name} twice"
            found[name] = Example(page.name, language, code)
    return found


def test_every_marked_example_is_one_this_test_runs() -> None:
    assert {name: e.page for name, e in examples().items()} == EXPECTED


@dataclass
class Shell:
    """bash runs of shell examples that share their exported variables, as one terminal does."""

    env: dict[str, str]
    state: Path

    def run(self, code: str) -> str:
        script = f"source {self.state}\n{code}\nexport -p > {self.state}\n"
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{code}\nexit {done.returncode}:\n{done.stderr}{done.stdout}"
        return done.stdout


def python(code: str) -> str:
    """Run a Python example in its own interpreter (the project's, as a backend's would be)."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"{code}\n{done.stderr}"
    return done.stdout


def json_documents(text: str) -> list[object]:
    """The JSON documents printed one after another (curl adds no newline)."""
    decoder, documents, at = json.JSONDecoder(), [], 0
    while at < len(text.strip()):
        document, end = decoder.raw_decode(text, at)
        documents.append(document)
        at = end + len(text[end:]) - len(text[end:].lstrip())
    return documents


@pytest.fixture
def server(
    workflow_db: str,
    redis_server: servers.RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Server]:
    monkeypatch.setenv("CTW_WEBHOOK_KEY", "readme-key-" + uuid.uuid4().hex)
    get_settings.cache_clear()  # the in-process worker signs with the same key
    with running_server(
        tmp_path, CTW_BROKER_URL=redis_server.url(0), CTW_RESULT_BACKEND=redis_server.url(1)
    ) as running:
        yield running


def test_the_examples_run_as_written_against_a_real_server_and_worker(
    server: Server, workflow_db: str, redis_server: servers.RedisServer, tmp_path: Path
) -> None:
    blocks = examples()
    repo = python_sample(tmp_path / "yours").remote
    env = server_env(
        tmp_path,
        workflow_db,
        redis_server.url(0),
        redis_server.url(1),
        REPO=str(repo),
        CTW_WEBHOOK_KEY=get_settings().webhook_key.get_secret_value(),
        PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
    )
    state = tmp_path / "shell-state"
    state.write_text("")
    shell = Shell(env, state)
    local = {"http://127.0.0.1:8000": server.url}

    # The CLI tour: register, discover, one session to its pushed branch, and the list.
    printed = shell.run(blocks["cli-tour"].with_values({}))
    assert "shop.accounts.user" in printed
    scope = scope_of("acme", "shop")
    (first,) = api.list_sessions(scope)
    assert first.status is SessionStatus.COMPLETE and first.branch_name and first.pushed_commit
    branch_head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", first.branch_name],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert branch_head == first.pushed_commit
    assert str(first.id) in printed

    with receiving() as receiver:
        # A webhook to a loopback receiver; its secret is what the CLI printed.
        hook = blocks["webhook-create"]
        secret = shell.run(hook.with_values({"https://ci.example.com/hooks/ctw": receiver.url}))
        secret = secret.strip().splitlines()[0]

        # The HTTP tour: a token, a start with curl -d (form-encoded, a JSON body), the list.
        started, listed = json_documents(shell.run(blocks["http-tour"].with_values(local)))
        assert isinstance(started, dict) and isinstance(listed, list)
        assert started["context"] == "shop.accounts" and started["id"] != str(first.id)
        assert listed[0]["id"] == started["id"]
        (again,) = json_documents(shell.run(blocks["api-start"].with_values(local)))
        assert isinstance(again, dict) and again["context"] == "shop.accounts"

        # A backend that speaks only Celery starts (or finds) a session, then reads it.
        ids = {"6f1c...": str(scope.account_id), "0b7e...": str(scope.project_id)}
        broker = {"redis://redis.internal:6379": redis_server.url(0).rsplit("/", 1)[0]}
        start = blocks["send-task"].with_values({**broker, **ids})
        status = blocks["celery-status"].with_values(ids)
        out = python(f"{start}\n{status}\nprint(session_id, summary['status'])\n")
        session_id, status_word = out.split()
        assert status_word in {"active", "complete"}

        sessions = {str(s.id) for s in api.list_sessions(scope)}
        assert {started["id"], again["id"], session_id} <= sessions
        for other in sessions:
            ended = wait_until_terminal(scope, uuid.UUID(other))
            assert ended.status is SessionStatus.COMPLETE, ended.error
        delivery = receiver.wait_for(1)[0]

    # The receiver's check, as written, accepts the real delivery and refuses a changed body.
    verifier: dict[str, object] = {}
    exec(
        blocks["webhook-verifier"].with_values({}), verifier
    )  # the docs' own code, as a reader pastes it
    verified = verifier["verified"]
    assert callable(verified)
    header = delivery.headers["CTW-Signature"]
    assert verified(secret, header, delivery.body) is True
    assert verified(secret, header, delivery.body + b" ") is False
    assert json.loads(delivery.body)["event"] == "session.complete"


def scope_of(account: str, project: str) -> Scope:
    """The scope of an account and project the examples created, found by name."""
    with unit_of_work() as uow:
        (found,) = uow.catalog.find_accounts(account)
        mine = uow.catalog.find_project(found.id, project)
    assert mine is not None
    return Scope(account_id=found.id, project_id=mine.id, user_id="readme")
