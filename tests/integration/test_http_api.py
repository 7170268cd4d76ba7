"""The HTTP API through the real server (``ctw serve``) and the real worker.

A backend client that knows only HTTP starts a session, gets the signed webhook and reads the
session; another account's token gets 404s for all of it, exactly like missing ids. Bad tokens
and bad bodies get one clear 4xx line, and nothing is written.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ctworkflow import api
from ctworkflow.config import get_settings
from ctworkflow.domain.states import SessionStatus
from ctworkflow.http.auth import COOKIE
from tests import servers
from tests.factories import make_tenant
from tests.http_support import Server, running_server, token_for
from tests.workflow_support import Project, make_project, wait_until_terminal

CLIENT = Path(__file__).parents[1] / "clients" / "backend_client.py"


@pytest.fixture
def project(workflow_db: str, tmp_path: Path, request: pytest.FixtureRequest) -> Project:
    # A test that parametrizes it with "quality checks" gets the product's defaults.
    quality_checks = getattr(request, "param", None) == "quality checks"
    return make_project(tmp_path / "shop", quality_checks=quality_checks)


@pytest.fixture
def server(
    project: Project,
    redis_server: servers.RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Server]:
    monkeypatch.setenv("CTW_WEBHOOK_KEY", "test-server-key-" + uuid.uuid4().hex)
    get_settings.cache_clear()  # the worker in this process signs with the same key
    with running_server(
        tmp_path,
        CTW_BROKER_URL=redis_server.url(0),
        CTW_RESULT_BACKEND=redis_server.url(1),
    ) as running:
        yield running


def metric(text: str, name: str) -> float:
    """The value of one sample line ``name value`` of a Prometheus exposition."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics:\n{text}")


@pytest.mark.parametrize("project", ["quality checks"], indirect=True)  # repeated_runs: 5
def test_a_backend_with_only_http_starts_a_session_gets_its_signed_webhook_and_reads_it(
    project: Project, server: Server, workflow_db: str
) -> None:
    other = make_tenant(workflow_db)
    mine, theirs = token_for(project.scope), token_for(other.scope, "intruder")

    run = subprocess.run(
        [
            sys.executable,
            str(CLIENT),
            "--base", server.url,
            "--project", str(project.scope.project_id),
            "--context", project.context.module_name,
            "--token", mine,
            "--other-token", theirs,
            "--other-project", str(other.scope.project_id),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr + server.log_tail()
    seen = json.loads(run.stdout)

    # The client never imported ctworkflow; it started one session (the key made the second
    # start return the same one) and got the signed end of it.
    assert seen["imports_ctworkflow"] is False
    assert (seen["webhook_status"], seen["start_status"], seen["same_session_again"]) == (
        201,
        202,
        True,
    )
    assert seen["webhook_events"] == ["session.complete"]
    assert seen["signature_valid"] is True
    assert seen["tampered_signature_valid"] is False
    hooked, shown = seen["webhook_session"], seen["session"]
    assert hooked["status"] == "complete" and hooked["commit"]
    # What it reads agrees with the webhook and with the remote.
    assert shown["status"] == "complete"
    assert (
        shown["commit"] == hooked["commit"] == project.remote_git("rev-parse", shown["branch_name"])
    )
    assert [c["module_name"] for c in shown["component_matrix"]] == [
        c.module_name for c in project.components
    ]
    for row in shown["component_matrix"]:
        assert row["status"] == "complete" and row["tests"]["passed"] >= 1
        # The new tests ran again in random order; none was flaky.
        assert row["tests"]["repeated_runs"] == 5 and row["tests"]["flaky"] == []
        assert [s["step"] for s in row["steps"]][:2] == ["initialize", "generate_tests"]
    assert [s["step"] for s in shown["steps"]] == [
        "initialize",
        "spawn_component_testing_sessions",
        "finalize",
    ]

    # Another account: every probe is a 404, with the body of a missing id.
    missing = seen["missing"]
    assert missing["project"] == [404, {"error": "project not found"}]
    assert missing["session"] == [404, {"error": "session not found"}]
    for name, answer in seen["other_tenant"].items():
        kind = "session" if name in ("session_in_own_project", "cancel", "output") else "project"
        assert answer == missing[kind], name
    assert seen["other_projects"] == [str(other.scope.project_id)]
    # Their probes changed nothing.
    assert api.get_session(project.scope, shown["id"]).status is SessionStatus.COMPLETE
    assert len(api.list_sessions(project.scope)) == 1

    # /metrics counts the session, its components and its delivered webhook.
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    assert metric(text, 'ctw_sessions{status="complete",type="context_testing"}') == 1
    assert metric(text, 'ctw_sessions{status="complete",type="component_testing"}') == 3
    assert metric(text, "ctw_session_components_count") == 1
    assert metric(text, "ctw_session_components_sum") == 3
    assert metric(text, 'ctw_session_rounds_bucket{le="1"}') == 1
    assert metric(text, 'ctw_session_duration_seconds_count{type="context_testing"}') == 1
    assert metric(text, 'ctw_webhook_deliveries{status="delivered"}') == 1
    assert metric(text, "ctw_broker_up") == 1
    assert metric(text, 'ctw_queue_depth{queue="ctw.components"}') == 0


@pytest.mark.parametrize(
    "content_type",
    [None, "application/x-www-form-urlencoded", "text/plain"],
)
def test_a_json_object_starts_a_session_whatever_content_type_it_declares(
    project: Project, server: Server, content_type: str | None
) -> None:
    # curl -d sends application/x-www-form-urlencoded; the body is still a JSON object.
    headers = {"Authorization": f"Bearer {token_for(project.scope)}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    body = json.dumps({"context": project.context.module_name})

    answer = requests.post(
        f"{server.url}/v1/projects/{project.scope.project_id}/sessions",
        headers=headers,
        data=body.encode(),
        timeout=10,
    )

    assert answer.status_code == 202, answer.text
    started = api.get_session(project.scope, answer.json()["id"])
    assert started.component_id == project.context.id
    assert [s.id for s in api.list_sessions(project.scope)] == [started.id]
    assert wait_until_terminal(project.scope, started.id).status is SessionStatus.COMPLETE


def test_bad_tokens_bodies_and_ids_get_one_line_and_write_nothing(
    project: Project, server: Server, workflow_db: str
) -> None:
    secret = token_for(project.scope)
    base = f"{server.url}/v1/projects/{project.scope.project_id}"
    auth = {"Authorization": f"Bearer {secret}"}
    start = f"{base}/sessions"
    body = {"context": project.context.module_name}

    def post(headers: dict[str, str], **kwargs: object) -> tuple[int, object]:
        answer = requests.post(start, headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]
        return answer.status_code, answer.json()

    # Tokens: none, malformed, unknown, revoked.
    assert post({}, json=body) == (
        401,
        {"error": "missing token: send the header Authorization: Bearer <token>"},
    )
    for wrong in ("nonsense", "ctw_" + "x" * 43, secret + "x"):
        assert post({"Authorization": f"Bearer {wrong}"}, json=body) == (
            401,
            {"error": "invalid or revoked token"},
        )
    revoked = token_for(project.scope, "old")
    run = subprocess.run(
        [str(Path(sys.executable).with_name("ctw")), "token", "list", "--json", "-a",
         str(project.scope.account_id)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    listed = json.loads(run.stdout)
    old = next(t for t in listed if t["name"] == "old")
    assert revoked not in run.stdout and all("secret" not in t for t in listed)
    subprocess.run(
        [str(Path(sys.executable).with_name("ctw")), "token", "revoke", old["id"], "-a",
         str(project.scope.account_id)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert post({"Authorization": f"Bearer {revoked}"}, json=body)[0] == 401
    # The web view's login cookie is no API credential, whatever the body declares: a page on
    # another site cannot start a session through a visitor's browser.
    as_browser = {"Cookie": f"{COOKIE}={secret}", "Content-Type": "text/plain"}
    assert post(as_browser, data=json.dumps(body)) == (
        401,
        {"error": "missing token: send the header Authorization: Bearer <token>"},
    )

    # Bodies: not JSON, empty, not an object (whatever type they declare), unknown field, wrong
    # type, too large.
    json_type = {**auth, "Content-Type": "application/json"}
    form_type = {**auth, "Content-Type": "application/x-www-form-urlencoded"}
    not_json = (400, {"error": "request body is not valid JSON"})
    empty = (400, {"error": "request body is empty: send a JSON object"})
    not_object = (422, {"error": "request body must be a JSON object"})
    for headers in (json_type, form_type, auth):
        assert post(headers, data="{not json") == not_json
        assert post(headers, data="") == empty
        assert post(headers, data="[1, 2]") == not_object
        assert post(headers, data='"shop.accounts"') == not_object
    assert post(form_type, data={"context": project.context.module_name}) == not_json
    assert (
        post({**auth, "Content-Type": "multipart/form-data; boundary=x"}, data="--x--") == not_json
    )
    assert post(auth, json={**body, "agnet": "x"}) == (422, {"error": "unknown field 'agnet'"})
    assert post(auth, json={}) == (422, {"error": "missing field 'context'"})
    assert post(auth, json={**body, "max_rounds": "many"})[0] == 422
    assert post(auth, json={**body, "agent": "no-such-agent"})[0] == 422
    assert post(auth, json={"context": "shop.nothing"}) == (404, {"error": "component not found"})
    big = {**body, "agent": "a" * 70_000}
    assert post(auth, json=big) == (413, {"error": "request body is larger than 65536 bytes"})

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while the body streams in
        yield b'{"context": "'
        for _ in range(100):
            yield b"a" * 1000
        yield b'"}'

    assert post(json_type, data=chunks()) == (
        413,
        {"error": "request body is larger than 65536 bytes"},
    )
    # A malformed id is named; an unknown route is a plain 404 line.
    answer = requests.get(f"{base}/sessions/not-an-id", headers=auth, timeout=10)
    assert answer.status_code == 422 and list(answer.json()) == ["error"]
    assert requests.get(f"{server.url}/v1/nothing", headers=auth, timeout=10).json() == {
        "error": "Not Found"
    }

    # Nothing was written.
    assert api.list_sessions(project.scope) == []
