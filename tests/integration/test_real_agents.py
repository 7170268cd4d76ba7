"""The real coding agents through whole sessions: Claude Code and Aider, as ``make agents``
installs them, run by a real worker in the sandbox against the stand-in model server
(tests/agents/model_server.py) on the host's loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ctworkflow.cli import shapes
from ctworkflow.domain.states import ChildStep, SessionStatus
from ctworkflow.http.metrics import exposition, registry
from ctworkflow.http.session_schemas import SessionOut
from ctworkflow.persistence.tables import utcnow
from ctworkflow.services import session_views
from tests.agents import model_server
from tests.agents.stand_in import AIDER, CLAUDE, StandIn, program
from tests.agents.stand_in import model_server as running_model_server
from tests.workflow_support import Project, make_project, wait_for, wait_until_terminal

# Real third-party code or real agent programs: minutes, in the slow tier (make test-slow), with
# a deadline of its own that a loaded machine (the other tier worker busy) still meets.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

BRANCH = "test-context-testing-session-for-accounts"
KEY = "sk-stand-in-0123456789abcdef"
TEST_FILE = '''"""Tests the stand-in model wrote."""

import importlib


def test_double_doubles() -> None:
    module = importlib.import_module("{module}")
    double = next(getattr(module, n) for n in dir(module) if n.startswith("double_"))
    assert double(21) == 42
'''
EDITED_SOURCE = '''"""The user component, as the agent rewrote it."""


def double_user(value: int) -> int:
    return value + value
'''
WRITE_TESTS = {
    "mode": "write",
    "files": [{"path": "{test_path}", "content": TEST_FILE}],
    "final": "I wrote the tests.",
}


def claude_settings(server: StandIn, **more: Any) -> dict[str, Any]:
    return {
        "agent": "claude-code",
        "agent_program": program(CLAUDE),
        "agent_base_url": server.url,
        "agent_model": "claude-sonnet-4-5",
        "agent_max_turns": 10,
        "agent_timeout_s": 120,
        **more,
    }


def aider_settings(server: StandIn) -> dict[str, Any]:
    return {
        "agent": "aider",
        "agent_program": program(AIDER),
        "agent_base_url": f"{server.url}/v1",
        "agent_model": "openai/stand-in",
        "agent_timeout_s": 120,
    }


def shown(project: Project, session_id: object) -> dict[str, Any]:
    """What ``ctw session show --json`` prints for the session."""
    full = session_views.full_session(project.scope, session_id)  # type: ignore[arg-type]
    return shapes.details_json(full.details, full.child_steps)


def assert_scripted_tests_pushed(project: Project, document: dict[str, Any]) -> None:
    for child in document["children"]:
        test_path, module = child["artifact"]["test_path"], child["component"]["module_name"]
        on_branch = project.remote_git("show", f"{BRANCH}:{test_path}")
        assert on_branch == TEST_FILE.replace("{module}", module).rstrip("\n")


def assert_usage_shown(project: Project, session_id: object, server: StandIn) -> dict[str, Any]:
    """The session's usage is what the stand-in reported for every model call, summed."""
    calls = len(server.model_calls())
    document = shown(project, session_id)
    usage = document["usage"]
    assert usage["input_tokens"] == model_server.INPUT_TOKENS * calls
    assert usage["output_tokens"] == model_server.OUTPUT_TOKENS * calls
    assert usage["wall_s"] > 0
    per_child = [c["usage"] for c in document["children"]]
    assert sum(u["input_tokens"] for u in per_child) == usage["input_tokens"]
    # The API's view agrees.
    api_view = SessionOut.of_full(session_views.full_session(project.scope, session_id), utcnow())  # type: ignore[arg-type]
    assert api_view.usage.input_tokens == usage["input_tokens"]
    # The key the agents were handed reached the model, and is nowhere in what is shown.
    assert {
        c["headers"].get("x-api-key") or c["headers"].get("authorization")
        for c in server.model_calls()
    } == {"expected-key"}
    assert KEY not in json.dumps(document)
    return document


def test_claude_code_writes_the_scripted_tests_and_the_branch_is_pushed(
    workflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with running_model_server(tmp_path / "model", WRITE_TESTS, KEY) as server:
        project = make_project(
            tmp_path / "shop", modules=("user", "user_repository"), settings=claude_settings(server)
        )
        session = wait_until_terminal(project.scope, project.start().id, timeout_s=300)

        assert session.status is SessionStatus.COMPLETE, session.error
        document = assert_usage_shown(project, session.id, server)
    assert_scripted_tests_pushed(project, document)
    # Claude Code was offered the file tools and nothing else (no shell, no web).
    tools = {t["name"] for c in server.model_calls() for t in c["body"].get("tools", [])}
    assert tools == {"Read", "Write", "Edit"}
    for child in document["children"]:
        (run,) = child["agent_runs"]
        assert run["usage"]["turns"] == 3  # read, write, then the final answer
        assert run["usage"]["cost_usd"] > 0
        assert "I wrote the tests." in run["transcript"]
    # /metrics counts the runs and what they used (this test's database holds only them).
    families = {f.name: f for f in text_string_to_metric_families(exposition(registry()).decode())}
    assert families["ctw_agent_runs"].samples[0].value == 2
    tokens = families["ctw_agent_input_tokens"].samples[0].value
    assert tokens == document["usage"]["input_tokens"]


def test_aider_writes_the_scripted_tests_and_the_branch_is_pushed(
    workflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with running_model_server(tmp_path / "model", WRITE_TESTS, KEY) as server:
        project = make_project(
            tmp_path / "shop", modules=("user", "user_repository"), settings=aider_settings(server)
        )
        session = wait_until_terminal(project.scope, project.start().id, timeout_s=300)

        assert session.status is SessionStatus.COMPLETE, session.error
        document = assert_usage_shown(project, session.id, server)
    assert_scripted_tests_pushed(project, document)
    for child in document["children"]:
        (run,) = child["agent_runs"]
        assert run["usage"]["turns"] == 1
        assert "Applied edit to" in run["transcript"]


def test_a_claude_code_edit_of_a_source_file_is_refused(
    workflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    script = {
        "mode": "write",
        "files": [
            {"path": "{test_path}", "content": TEST_FILE},
            # The tests still pass against it: only the write-set check can refuse it.
            {"path": "{source_path}", "content": EDITED_SOURCE},
        ],
    }
    with running_model_server(tmp_path / "model", script, KEY) as server:
        project = make_project(
            tmp_path / "shop", modules=("user",), settings=claude_settings(server)
        )
        base = project.remote_git("rev-parse", "main")
        session = wait_until_terminal(
            project.scope, project.start(max_attempts=1).id, timeout_s=300
        )

    assert session.status is SessionStatus.FAILED
    message = "the agent changed files outside the test directory: shop/accounts/user.py"
    assert message in (session.error or "")
    wait_for(lambda: project.branch_head(BRANCH) is None, timeout_s=30, what="branch deleted")
    assert project.remote_git("rev-parse", "main") == base


# Long enough for the program to start and ask (Aider's start takes seconds on a busy host).
@pytest.mark.parametrize(("preset", "limit_s"), [("claude-code", 5), ("aider", 25)])
def test_a_model_server_that_never_answers_is_ended_by_the_agent_time_limit(
    preset: str, limit_s: int, workflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with running_model_server(tmp_path / "model", {"mode": "hang"}, KEY) as server:
        chosen = claude_settings(server) if preset == "claude-code" else aider_settings(server)
        settings = {**chosen, "agent_timeout_s": limit_s}
        project = make_project(tmp_path / "shop", modules=("user",), settings=settings)
        session = wait_until_terminal(
            project.scope, project.start(max_attempts=1).id, timeout_s=300
        )
        asked = len(server.model_calls())

    assert session.status is SessionStatus.FAILED
    assert asked >= 1  # the agent reached the model server, which never answered
    (child,) = shown(project, session.id)["children"]
    runs = child["agent_runs"]
    assert runs and {r["step"] for r in runs} == {ChildStep.GENERATE_TESTS.value}
    assert {r["error"] for r in runs} == {f"agent timed out after {limit_s} s"}


def test_a_model_server_that_answers_garbage_fails_the_component_with_the_agents_reason(
    workflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with running_model_server(tmp_path / "model", {"mode": "garbage"}, KEY) as server:
        project = make_project(
            tmp_path / "shop", modules=("user",), settings=claude_settings(server)
        )
        session = wait_until_terminal(
            project.scope, project.start(max_attempts=1).id, timeout_s=300
        )

    assert session.status is SessionStatus.FAILED
    (child,) = shown(project, session.id)["children"]
    assert child["status"] == "failed"
    errors = {r["error"] for r in child["agent_runs"]}
    assert errors == {"agent exited with status 1: API Error: Failed to parse JSON"}


def test_a_session_that_spent_its_budget_starts_no_new_round(
    workflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    failing = {
        "mode": "write",
        "files": [{"path": "{test_path}", "content": "def test_wrong():\n    assert 1 + 1 == 3\n"}],
    }
    with running_model_server(tmp_path / "model", failing, KEY) as server:
        settings = claude_settings(server, budget_per_session_usd=0.001)
        project = make_project(tmp_path / "shop", modules=("user",), settings=settings)
        session = wait_until_terminal(
            project.scope, project.start(max_attempts=3).id, timeout_s=300
        )

    assert session.status is SessionStatus.FAILED
    document = shown(project, session.id)
    spent = document["usage"]["cost_usd"]
    assert spent >= 0.001
    assert (session.error or "").startswith(
        f"budget spent: the agents cost ${spent:.4f} of $0.0010 (budget_per_session_usd), "
        "so no new round starts"
    )
    rounds = [
        i for i in document["interactions"] if i["step"] == "spawn_component_testing_sessions"
    ]
    assert len(rounds) == 1  # three were allowed
