"""The project's ``finalize`` policy through whole sessions: a real worker, PostgreSQL, Redis,
git remote, ``ctw serve`` and the ``ctw`` program.

Under ``passing`` a context whose component cannot pass lands the other components' test files
on its branch, and the session's outcome names the failed one with its reason, alike in
``ctw session show --json``, the HTTP API and the webhook; under the default ``all`` the same
context fails and pushes nothing.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import requests

from ctworkflow import api
from ctworkflow.cli import shapes
from ctworkflow.config import get_settings
from ctworkflow.domain.states import SessionStatus
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import webhooks
from tests import servers
from tests.cli_support import ctw, ok, server_env
from tests.http_support import receiving, running_server, token_for
from tests.workflow_support import Project, make_project, wait_for, wait_until_terminal

BRANCH = "test-context-testing-session-for-accounts"
FAILING = "shop.accounts.user_repository"


def branch_files(project: Project, branch: str) -> set[str]:
    listed = project.remote_git("ls-tree", "-r", "--name-only", branch)
    return set(listed.splitlines())


def test_passing_lands_what_passed_and_names_the_component_that_did_not(
    workflow_db: str,
    redis_server: servers.RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CTW_WEBHOOK_KEY", "finalize-test-key-" + uuid.uuid4().hex)
    get_settings.cache_clear()
    project = make_project(tmp_path / "shop", settings={"finalize": "passing"})
    project.plan({FAILING: ["fail"]})  # its tests fail in every round and every fix
    others = [c for c in project.components if c.module_name != FAILING]
    base_files = branch_files(project, "main")

    with receiving() as receiver:
        with unit_of_work() as uow:
            webhooks.create_webhook(uow, project.scope, receiver.url)
        session = wait_until_terminal(project.scope, project.start(max_attempts=2).id, 240)
        receiver.wait_for(1, timeout_s=60)

    # The session completed after spending its two rounds on the failing component ...
    assert session.status is SessionStatus.COMPLETE, session.error
    failing_calls = [c for c in project.agent_calls() if c["module"] == FAILING]
    assert len(failing_calls) == 4  # two rounds, each with one fix
    assert all(len([c for c in project.agent_calls() if c["module"] == o.module_name]) == 1
               for o in others)  # fmt: skip
    # ... and its branch holds the other components' new test files, not the failing one's.
    details = api.session_details(project.scope, session.id)
    paths = {
        details.components[c.component_id].module_name: a.test_path
        for c in details.children
        if (a := details.artifacts.get(c.id)) is not None
    }
    on_branch = branch_files(project, BRANCH) - base_files
    assert on_branch == {paths[o.module_name] for o in others}
    assert project.branch_head(BRANCH) == session.pushed_commit

    # ctw session show --json says what landed and what failed, and why.
    env = server_env(tmp_path, workflow_db, redis_server.url(0), redis_server.url(1))
    env |= {"CTW_ACCOUNT": str(project.scope.account_id), "CTW_PROJECT": "shop"}
    shown = ok(ctw("session", "show", str(session.id), "--json", env=env)).json()
    outcome = shown["outcome"]
    assert outcome["partial"] is True
    assert [c["module_name"] for c in outcome["landed"]] == [o.module_name for o in others]
    [failed] = outcome["failed"]
    assert failed["module_name"] == FAILING
    assert "this test was written to fail" in failed["reason"]
    table = ok(ctw("session", "show", str(session.id), env=env)).stdout
    assert "partial: 2 landed, 1 failed" in table and FAILING in table

    # The HTTP API and the webhook say the same.
    with running_server(
        tmp_path, CTW_BROKER_URL=redis_server.url(0), CTW_RESULT_BACKEND=redis_server.url(1)
    ) as server:
        token = token_for(project.scope)
        answer = requests.get(
            f"{server.url}/v1/projects/{project.scope.project_id}/sessions/{session.id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        # and the web view shows the session as partial, with the component that did not land
        with requests.Session() as browser:
            browser.post(f"{server.url}/ui/login", data={"token": token}, timeout=10)
            page = browser.get(
                f"{server.url}/ui/projects/{project.scope.project_id}/sessions/{session.id}",
                timeout=10,
            )
    assert page.status_code == 200, page.text
    assert "<strong>partial</strong>: 2 landed, 1 failed" in page.text
    not_landed = page.text.split('<table id="not-landed">')[1].split("</table>")[0]
    assert f'data-module="{FAILING}"' in not_landed
    assert "1 failed, 0 errors, 0 passed of 1 collected" in not_landed
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == outcome
    [hooked] = [json.loads(r.body) for r in receiver.received]
    assert hooked["event"] == "session.complete"
    assert hooked["session"]["outcome"] == outcome


def test_all_fails_the_same_context_and_pushes_nothing(workflow_db: str, tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")  # the default policy: all
    project.plan({FAILING: ["fail"]})
    base = project.remote_git("rev-parse", "main")

    session = wait_until_terminal(project.scope, project.start(max_attempts=2).id, 240)

    assert session.status is SessionStatus.FAILED
    assert session.error is not None and FAILING in session.error
    assert session.pushed_commit is None
    wait_for(lambda: project.branch_head(BRANCH) is None, timeout_s=30, what="branch deleted")
    assert project.remote_git("rev-parse", "main") == base
    outcome = shapes.outcome_json(api.session_details(project.scope, session.id))
    assert outcome is not None and outcome["partial"] is False and outcome["landed"] == []
    assert [c["module_name"] for c in outcome["failed"]] == [FAILING]
