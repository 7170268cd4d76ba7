"""Two writers of one session's state at the same time lose nothing of each other's.

Each writer reads the session first, as the steps do, then merges only its own key; the
store merges in one statement, so whatever the interleaving both keys survive every round.
Runs on SQLite and PostgreSQL, with two threads on two connections.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ctworkflow.domain import model
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.session_state import StatePatch
from ctworkflow.domain.states import ExecutionMode, SessionStatus, SessionType
from ctworkflow.persistence import db
from tests.conftest import fresh_database
from tests.factories import new_project

#: Rounds in which both writers write at once.
ROUNDS = 40


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    found = fresh_database(request, request.param, tmp_path)
    yield found
    db.close_engine(found)


def _session(url: str) -> tuple[model.Scope, uuid.UUID]:
    with db.unit_of_work(url) as uow:
        scope = new_project(uow, "https://git.example/r.git", Layout.PYTHON, name="writers")
        context = uow.catalog.add_component(
            scope, name="cart", module_name="shop.cart", type="context", priority=0, parent_id=None
        )
        session = uow.sessions.add_session(
            scope,
            type=SessionType.CONTEXT_TESTING,
            status=SessionStatus.ACTIVE,
            user_id="user",
            component_id=context.id,
            execution_mode=ExecutionMode.AGENTIC,
            environment_type="local",
            agent="scaffold",
            state={},
            max_attempts=3,
        )
    return scope, session.id


def test_two_writers_at_once_keep_both_keys_every_round(url: str) -> None:
    # Given one session, and two writers that each set their own key every round
    scope, session_id = _session(url)
    start, written = threading.Barrier(2, timeout=60), threading.Barrier(2, timeout=60)
    seen: list[tuple[int, str | None, str | None]] = []
    failures: list[BaseException] = []

    def writer(patch_for: Callable[[int], StatePatch], check: bool) -> None:
        try:
            for round_ in range(ROUNDS):
                start.wait()
                with db.unit_of_work(url) as uow:
                    uow.sessions.get_session(scope, session_id)  # the copy a step reads first
                    uow.sessions.update_session(scope, session_id, state=patch_for(round_))
                written.wait()
                if check:
                    with db.unit_of_work(url) as uow:
                        state = uow.sessions.get_session(scope, session_id).state
                    seen.append((round_, state.feedback, state.queued))
        except BaseException as error:
            failures.append(error)
            start.abort()
            written.abort()

    threads = [
        threading.Thread(target=writer, args=(lambda i: StatePatch(feedback=f"a{i}"), True)),
        threading.Thread(target=writer, args=(lambda i: StatePatch(queued=f"b{i}"), False)),
    ]
    # When both write at once, round after round
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # Then after every round both keys hold that round's values
    assert failures == []
    assert seen == [(i, f"a{i}", f"b{i}") for i in range(ROUNDS)]
