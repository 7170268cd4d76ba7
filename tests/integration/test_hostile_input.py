"""Hostile input, table-driven: every bad value gets a typed error and one clear line, writes
nothing, and runs nothing it should not.

Each case goes through a public surface: the Python API (``ctworkflow.api`` and the catalog
use cases) or the Celery entry task a backend service calls by name. A canary file stands for
"ran a command": any shell that ever saw one of these values would have created it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from celery.exceptions import TimeoutError as CeleryTimeout

from ctworkflow import api, constants, errors
from ctworkflow.domain.model import Scope
from ctworkflow.persistence import db
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import catalog
from tests.factories import Tenant, make_tenant

TABLES = ("accounts", "projects", "components", "sessions", "interactions", "artifacts")
CANARY = "/tmp/ctw-hostile-canary"
SHELLY = f"$(touch {CANARY}); `touch {CANARY}` | touch {CANARY} && touch {CANARY}"
LONG = "x" * 10_000
TOKEN = "ghp_s3cretT0ken"


@dataclass(frozen=True)
class World:
    """Two tenants and one real session of the first one."""

    mine: Tenant
    theirs: Tenant
    session_id: uuid.UUID
    their_session_id: uuid.UUID
    url: str


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[World], object]
    error: type[errors.CtWorkflowError]
    says: str = ""


def start(scope: Scope, context: object, **kwargs: Any) -> object:
    return api.start_context_testing(scope, context, **kwargs)  # type: ignore[arg-type]


def new_project(world: World, **overrides: Any) -> object:
    values: dict[str, Any] = {
        "name": f"p-{uuid.uuid4().hex[:6]}",
        "code_repo": "https://git.example.com/acme/shop.git",
        "layout": "phoenix",
    }
    values.update(overrides)
    account = values.pop("account_id", world.mine.scope.account_id)
    with unit_of_work() as uow:
        return catalog.create_project(uow, account, **values)


def new_component(world: World, **overrides: Any) -> object:
    values: dict[str, Any] = {"name": "Billing", "module_name": "MyApp.Billing"}
    values.update(overrides)
    with unit_of_work() as uow:
        return catalog.add_component(uow, world.mine.scope, **values)


def as_user(world: World, user_id: str) -> Scope:
    """My scope, under another user id."""
    mine = world.mine.scope
    return Scope(account_id=mine.account_id, project_id=mine.project_id, user_id=user_id)


def forged(world: World) -> Scope:
    """My project id under their account: belongs to no one."""
    return Scope(account_id=world.theirs.scope.account_id, project_id=world.mine.scope.project_id)


API_CASES = [
    Case("malformed session id", lambda w: api.get_session(w.mine.scope, "not-a-uuid"),
         errors.InvalidInput, "not a valid id"),
    Case("sql in a session id",
         lambda w: api.session_details(w.mine.scope, "1; DROP TABLE sessions"),
         errors.InvalidInput, "not a valid id"),
    Case("unknown session id", lambda w: api.get_session(w.mine.scope, uuid.uuid4()),
         errors.SessionNotFound),
    Case("another account's session", lambda w: api.get_session(w.mine.scope, w.their_session_id),
         errors.SessionNotFound),
    Case("cancel another account's session",
         lambda w: api.cancel_session(w.mine.scope, w.their_session_id), errors.SessionNotFound),
    Case("retry another account's session",
         lambda w: api.retry_session(w.mine.scope, w.their_session_id), errors.SessionNotFound),
    Case("details under a forged scope", lambda w: api.session_details(forged(w), w.session_id),
         errors.NotFound),
    Case("start another account's context by id",
         lambda w: start(w.mine.scope, w.theirs.context.id), errors.ComponentNotFound),
    Case("start a context named with shell code", lambda w: start(w.mine.scope, SHELLY),
         errors.ComponentNotFound),
    Case("start an empty context name", lambda w: start(w.mine.scope, "   "),
         errors.InvalidName, "empty"),
    Case("start a context name with a newline", lambda w: start(w.mine.scope, "MyApp\nAccounts"),
         errors.InvalidName, "control characters"),
    Case("start a context name with escape codes",
         lambda w: start(w.mine.scope, "MyApp.\x1b[31mAccounts\x07"), errors.InvalidName),
    Case("start a context name of undecodable bytes",
         lambda w: start(w.mine.scope, b"MyApp.\xff\xfe".decode("utf-8", "surrogateescape")),
         errors.InvalidName),
    Case("start a 10,000-character context name", lambda w: start(w.mine.scope, LONG),
         errors.InvalidName, "10000 characters"),
    Case("start with a 10,000-character idempotency key",
         lambda w: start(w.mine.scope, "MyApp.Accounts", idempotency_key=LONG), errors.InvalidName),
    Case("start with an unknown agent",
         lambda w: start(w.mine.scope, "MyApp.Accounts", agent="rm -rf /"), errors.InvalidInput,
         "unknown agent"),
    Case("start with zero attempts",
         lambda w: start(w.mine.scope, "MyApp.Accounts", max_attempts=0), errors.InvalidInput),
    Case("start with attempts as text",
         lambda w: start(w.mine.scope, "MyApp.Accounts", max_attempts="3"), errors.InvalidInput),
    Case("module name with path traversal",
         lambda w: new_component(w, module_name="../../etc/passwd"), errors.InvalidModuleName),
    Case("module name with shell code", lambda w: new_component(w, module_name=SHELLY),
         errors.InvalidModuleName),
    Case("module name with a newline", lambda w: new_component(w, module_name="MyApp.A\nB"),
         errors.InvalidModuleName),
    Case("10,000-character component name", lambda w: new_component(w, name=LONG),
         errors.InvalidName),
    Case("component under another account's context",
         lambda w: new_component(w, parent_id=w.theirs.context.id), errors.InvalidParent,
         "not a component of this project"),
    Case("repository URL with a token",
         lambda w: new_project(w, code_repo=f"https://bot:{TOKEN}@github.com/acme/shop.git"),
         errors.InvalidRepository, "credentials"),
    Case("repository URL with a token as user name",
         lambda w: new_project(w, code_repo=f"https://{TOKEN}@github.com/acme/shop.git"),
         errors.InvalidRepository, "credentials"),
    Case("repository through a git remote helper",
         lambda w: new_project(w, code_repo=f"ext::sh -c touch% {CANARY}"),
         errors.InvalidRepository, "remote helpers"),
    Case("repository that is a git option",
         lambda w: new_project(w, code_repo=f"--upload-pack=touch {CANARY}"),
         errors.InvalidRepository, "'-'"),
    Case("repository path that holds no repository",
         lambda w: new_project(w, code_repo="/tmp/ctw-no-such-repository"),
         errors.InvalidRepository, "no git repository"),
    Case("repository URL of an unknown scheme",
         lambda w: new_project(w, code_repo="ftp://example.com/shop.git"),
         errors.InvalidRepository, "scheme"),
    Case("unknown layout", lambda w: new_project(w, layout="rails"), errors.UnknownLayout),
    Case("project name with a newline", lambda w: new_project(w, name="shop\nrm -rf /"),
         errors.InvalidName),
    Case("project of an unknown account", lambda w: new_project(w, account_id=uuid.uuid4()),
         errors.AccountNotFound),
    Case("agent template with a misspelt placeholder",
         lambda w: new_project(w, settings={"agent": "command", "agent_argv": ["x", "{prmpt}"]}),
         errors.InvalidInput, "unknown placeholder"),
    Case("agent template with an unclosed placeholder",
         lambda w: new_project(w, settings={"agent_argv": ["x", "{prompt_file"]}),
         errors.InvalidInput),
    Case("environment recipe that smuggles an installer option",
         lambda w: new_project(w, settings={"environment": {"packages": ["--index-url=http://x"]}}),
         errors.InvalidInput, "requirement specifiers, not options"),
    Case("environment recipe with a requirement file outside the repository",
         lambda w: new_project(w, settings={"environment": {"requirements": ["../../etc/x"]}}),
         errors.InvalidInput, "outside the repository"),
    Case("environment recipe with an unknown installer",
         lambda w: new_project(w, settings={"environment": {"installer": "curl | sh"}}),
         errors.InvalidInput, "installer must be one of auto, uv, pip, none"),
    Case("unknown finalize policy",
         lambda w: new_project(w, settings={"finalize": "some"}),
         errors.InvalidInput, "setting finalize must be one of all, passing, not 'some'"),
    Case("start as a 300-character user id",
         lambda w: start(as_user(w, "u" * 300), "MyApp.Accounts"), errors.InvalidName,
         "user id is 300 characters long; at most 255"),
    Case("start as a user id with a NUL",
         lambda w: start(as_user(w, "user\x00admin"), "MyApp.Accounts"), errors.InvalidName,
         "user id 'user\\x00admin' holds control characters"),
    Case("start with 2**31 attempts",
         lambda w: start(w.mine.scope, "MyApp.Accounts", max_attempts=2**31), errors.InvalidInput,
         "max_attempts must be at most 1000"),
    Case("component with a priority past 32 bits",
         lambda w: new_component(w, priority=2**63), errors.InvalidInput,
         "priority must be at most 2147483647"),
    Case("context whose name sanitizes to nothing",
         lambda w: new_component(w, name="!!!", module_name="MyApp.Bang", type="context"),
         errors.InvalidBranchName, "has no letter or digit to build a branch name from"),
    Case("repository host that is an ssh option",
         lambda w: new_project(w, code_repo=f"ssh://-oProxyCommand=touch%20{CANARY}/shop.git"),
         errors.InvalidRepository, "host must not start with '-'"),
    Case("repository user that is an ssh option",
         lambda w: new_project(w, code_repo="ssh://-oProxyCommand=x@git.example.com/shop.git"),
         errors.InvalidRepository, "user must not start with '-'"),
    Case("scp-like repository host that is an ssh option",
         lambda w: new_project(w, code_repo=f"git@-oProxyCommand=touch {CANARY}:shop.git"),
         errors.InvalidRepository),
    Case("repository path that is an option",
         lambda w: new_project(w, code_repo="git@git.example.com:--upload-pack=x"),
         errors.InvalidRepository, "path must not start with '-'"),
    Case("repository URL with a private_token query",
         lambda w: new_project(w, code_repo=f"https://gitlab.com/acme/shop.git?private_token={TOKEN}"),
         errors.InvalidRepository, "query or a fragment"),
    Case("repository URL with a token fragment",
         lambda w: new_project(w, code_repo=f"https://gitlab.com/acme/shop.git#{TOKEN}"),
         errors.InvalidRepository, "query or a fragment"),
    Case("default branch that is a git option",
         lambda w: new_project(w, default_branch=f"--upload-pack=touch {CANARY}"),
         errors.InvalidBranchName, "is not a branch name: it starts with '-'"),
    Case("default branch git refuses",
         lambda w: new_project(w, default_branch="main..next"), errors.InvalidBranchName,
         "it holds '..'"),
    Case("default branch with a NUL", lambda w: new_project(w, default_branch="main\x00"),
         errors.InvalidName, "control characters"),
    Case("agent template as one shell string",
         lambda w: new_project(w, settings={"agent": "command", "agent_argv": f"claude; {SHELLY}"}),
         errors.InvalidInput, "list of strings"),
]  # fmt: skip


def entry(w: World, context: str, **extra: str) -> dict[str, Any]:
    return {**w.mine.scope.to_json(), "context": context, **extra}


ENTRY_CASES: list[tuple[str, Callable[[World], dict[str, Any]], str]] = [
    ("malformed account id",
     lambda w: {**entry(w, "MyApp.Accounts"), "account_id": "../../etc"}, "not a valid id"),
    ("another account's project",
     lambda w: {**entry(w, "MyApp.Accounts"), "account_id": str(w.theirs.scope.account_id)},
     "not found"),
    ("context named with shell code", lambda w: entry(w, SHELLY), "not found"),
    ("10,000-character context", lambda w: entry(w, LONG), "10000 characters"),
    ("unknown agent", lambda w: entry(w, "MyApp.Accounts", agent="curl | sh"), "unknown agent"),
    ("300-character user id", lambda w: entry(w, "MyApp.Accounts", user_id="u" * 300),
     "user id is 300 characters long"),
    ("user id with a NUL", lambda w: entry(w, "MyApp.Accounts", user_id="a\x00b"),
     "control characters"),
]  # fmt: skip


def counts(url: str) -> dict[str, int]:
    with db.get_engine(url).connect() as connection:
        return {
            t: connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES
        }


@pytest.fixture
def world(workflow_db: str) -> World:
    mine, theirs = make_tenant(workflow_db), make_tenant(workflow_db)
    with unit_of_work() as uow:
        from ctworkflow.services import sessions

        ours = sessions.create_context_session(
            uow, mine.scope, mine.context.id, agent="scaffold", max_attempts=3
        ).session
        their = sessions.create_context_session(
            uow, theirs.scope, theirs.context.id, agent="scaffold", max_attempts=3
        ).session
    Path(CANARY).unlink(missing_ok=True)
    return World(
        mine=mine, theirs=theirs, session_id=ours.id, their_session_id=their.id, url=workflow_db
    )


def assert_one_clear_line(message: str, says: str) -> None:
    assert message and "\n" not in message and len(message) <= 300, message
    assert says in message
    assert TOKEN not in message
    assert "Traceback" not in message


@pytest.mark.parametrize("case", API_CASES, ids=[c.id for c in API_CASES])
def test_bad_input_through_the_python_api(world: World, case: Case) -> None:
    before = counts(world.url)

    with pytest.raises(case.error) as raised:
        case.call(world)

    assert_one_clear_line(str(raised.value), case.says)
    assert counts(world.url) == before
    assert not Path(CANARY).exists()


@pytest.mark.parametrize(
    ("kwargs", "says"), [(k, s) for _, k, s in ENTRY_CASES], ids=[i for i, _, _ in ENTRY_CASES]
)
def test_bad_input_through_the_celery_entry_task(
    world: World, kwargs: Callable[[World], dict[str, Any]], says: str
) -> None:
    from ctworkflow.tasks.app import app

    before = counts(world.url)
    result = app.send_task(
        constants.START_CONTEXT_TESTING, kwargs=kwargs(world), queue=constants.ORCHESTRATION_QUEUE
    )
    with pytest.raises(Exception) as raised:
        result.get(timeout=30, propagate=True)
    assert not isinstance(raised.value, CeleryTimeout)
    assert result.state == "FAILURE"
    result.forget()
    assert_one_clear_line(str(raised.value), says)
    assert counts(world.url) == before
    assert not Path(CANARY).exists()


def test_there_are_at_least_thirty_hostile_cases() -> None:
    assert len(API_CASES) + len(ENTRY_CASES) >= 30


def test_a_context_registered_before_names_were_checked_is_refused_at_start(world: World) -> None:
    # Given: a context whose name gives no branch, stored as an older release would have.
    with unit_of_work() as uow:
        bang = uow.catalog.add_component(
            world.mine.scope,
            name="!!!",
            module_name="MyApp.Bang",
            type="context",
            priority=0,
            parent_id=None,
        )
        uow.catalog.add_component(
            world.mine.scope,
            name="Child",
            module_name="MyApp.Bang.Child",
            type="module",
            priority=0,
            parent_id=bang.id,
        )
    before = counts(world.url)

    with pytest.raises(errors.InvalidBranchName) as raised:
        start(world.mine.scope, bang.id)

    assert_one_clear_line(str(raised.value), "context name '!!!' has no letter or digit")
    assert counts(world.url) == before
