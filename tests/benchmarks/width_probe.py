"""What a component run's own work costs in a wide round, apart from the repository's size.

    python -m tests.benchmarks.width_probe [--widths 1000,10000] [--sample 300] [--repo]

Without Celery and without an agent: in a throwaway PostgreSQL it registers one context per
width with that many components, inserts its round (a parent and one child per component), and
replays, for a sample of children spread over the round, the statements a component run issues
(load: child, parent, project, component; take the lease; close pending interactions, number
attempts; four interactions; the artifact, the state, the status, the lease released), each in
its own transaction as the run does. It prints the median and 90th percentile per child and per
statement, by width, so a statement whose cost follows the number of siblings stands out.

With ``--repo`` it also times, on repositories of as many modules as each width (the benchmark's
``1xN`` repositories), what a run reads from git before any workspace: its component's paths at
the base commit (:func:`ctworkflow.effects.repository_layout.component_paths`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from ctworkflow.domain import model
from ctworkflow.domain.states import SessionStatus, SessionType
from ctworkflow.persistence import db
from ctworkflow.persistence.db import UnitOfWork, unit_of_work
from ctworkflow.persistence.tables import utcnow
from ctworkflow.services import catalog
from tests import servers

#: Statement timings of the current child, by the statement's first words.
_TIMINGS: dict[str, list[float]] = defaultdict(list)


def _label(statement: str) -> str:
    words = statement.split()
    verb = words[0].upper()
    table = next((w for w in words[1:] if w.strip('"') in _TABLES), "?")
    return f"{verb} {table.strip(chr(34))}"


_TABLES = {"sessions", "projects", "components", "interactions", "artifacts", "webhooks"}


def _watch(engine: sa.Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["probe_t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        elapsed = (time.perf_counter() - conn.info.pop("probe_t0")) * 1000
        _TIMINGS[_label(statement)].append(elapsed)


def build_round(url: str, width: int) -> tuple[model.Scope, uuid.UUID, list[uuid.UUID]]:
    """A context of ``width`` components and its round: the parent and its children."""
    with unit_of_work(url) as uow:
        account = catalog.create_account(uow, f"probe-{width}-{uuid.uuid4().hex[:6]}")
        project = catalog.create_project(
            uow,
            account.id,
            name=f"probe-{width}",
            code_repo="https://git.example.com/probe.git",
            layout="python",
        )
        scope = model.Scope(account_id=account.id, project_id=project.id, user_id="probe")
        context = catalog.add_component(
            uow, scope, name="Ctx", module_name=f"pkg.ctx{width}", type="context"
        )
        uow.catalog.add_components(
            scope,
            context.id,
            [
                {"name": f"M{i:05d}", "module_name": f"pkg.ctx{width}.m{i:05d}", "type": "module"}
                | {"priority": 0}
                for i in range(width)
            ],
        )
        parent = uow.sessions.add_session(
            scope,
            type=SessionType.CONTEXT_TESTING,
            user_id="probe",
            component_id=context.id,
            execution_mode="agentic",
            environment_type="local",
            agent="bench-noop",
            base_commit="0" * 40,
            state={"layout": {"layout": "python", "commit": "0" * 40}},
        )
        components = [c.id for c in uow.catalog.child_components(scope, context.id)]
        uow.sessions.add_children(
            parent,
            components,
            execution_mode="agentic",
            environment_type="local",
            agent="bench-noop",
        )
        children = [c.id for c in uow.sessions.children(scope, parent.id)]
        uow.sessions.start_round(scope, 1, session_ids=children, states={})
    return scope, parent.id, children


def run_child(url: str, scope: model.Scope, child_id: uuid.UUID) -> None:
    """The statements of one component run, one transaction each as the run has them."""
    steps: list[Callable[[UnitOfWork], Any]] = []

    def load(uow: UnitOfWork) -> None:
        child = uow.sessions.get_session(scope, child_id)
        assert child.parent_id is not None
        uow.sessions.get_session(scope, child.parent_id)
        uow.catalog.get_project(scope.account_id, scope.project_id)
        uow.catalog.get_component(scope, child.component_id)

    now = utcnow()

    def lease(uow: UnitOfWork) -> None:
        uow.sessions.take_lease(
            scope, child_id, owner="probe", expires_at=now + timedelta(minutes=5), now=now
        )

    def prepare(uow: UnitOfWork) -> None:
        uow.sessions.abandon_pending(scope, child_id, "probe")
        uow.sessions.latest_attempts(scope, child_id)

    steps += [load, lease, prepare]
    for step in ("generate_tests", "run_tests", "measure", "commit"):
        holder: dict[str, model.Interaction] = {}

        def begin(uow: UnitOfWork, step: str = step, holder: dict[str, Any] = holder) -> None:
            holder["i"] = uow.sessions.begin_interaction(
                scope, child_id, step=step, attempt=1, command=model.Command(keyword=step)
            )

        def complete(uow: UnitOfWork, holder: dict[str, Any] = holder) -> None:
            uow.sessions.complete_interaction(scope, holder["i"], model.Outcome.ok())

        steps += [begin, complete]

    def end(uow: UnitOfWork) -> None:
        uow.sessions.release_lease(scope, child_id, owner="probe")
        uow.sessions.add_artifact(
            scope,
            child_id,
            attempt=1,
            test_path="tests/test_m.py",
            content="def test_m():\n    assert True\n",
            digest="0" * 64,
            report={"passed": 1},
        )
        uow.sessions.set_status(
            scope, [child_id], expected=SessionStatus.ACTIVE, target=SessionStatus.COMPLETE
        )

    steps.append(end)
    for step_fn in steps:
        with unit_of_work(url) as uow:
            step_fn(uow)


def probe_width(url: str, width: int, sample: int, *, analyze: bool = True) -> dict[str, Any]:
    """Median and p90 of a child's statements in a round of ``width`` children (``analyze``:
    with the planner's statistics refreshed once the round is written, else as young as a
    round just spawned leaves them until autovacuum analyzes the table)."""
    scope, _, children = build_round(url, width)
    if analyze:
        with db.get_engine(url).begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    stride = max(1, len(children) // sample)
    totals: list[float] = []
    per_statement: dict[str, list[float]] = defaultdict(list)
    for child_id in children[::stride][:sample]:
        _TIMINGS.clear()
        started = time.perf_counter()
        run_child(url, scope, child_id)
        totals.append((time.perf_counter() - started) * 1000)
        for label, found in _TIMINGS.items():
            per_statement[label].append(sum(found))
    return {
        "width": width,
        "children timed": len(totals),
        "child ms median": round(statistics.median(totals), 2),
        "child ms p90": round(statistics.quantiles(totals, n=10)[-1], 2),
        "statements ms median": {
            label: round(statistics.median(found), 3)
            for label, found in sorted(per_statement.items())
        },
    }


def probe_repository(root: Path, width: int, sample: int) -> dict[str, Any]:
    """Time a component's paths at the base on a ``1 x width`` benchmark repository."""
    from ctworkflow.domain.model import Project
    from ctworkflow.domain.repository.layouts import Layout
    from ctworkflow.effects import repository_layout
    from ctworkflow.effects.git import Git
    from tests.benchmarks import fixture
    from tests.benchmarks.shapes import Shape

    remote = fixture.build_repository(root / f"repo{width}", Shape(contexts=1, components=width))
    git = Git(root / f"cache{width}")
    project = Project(
        id=uuid.uuid4(),
        account_id=uuid.uuid4(),
        name="probe",
        code_repo=str(remote),
        layout=Layout.PYTHON,
        default_branch="main",
        settings={},
        created_at=utcnow(),
    )
    commit = git.remote_head(str(remote), "main")
    assert commit is not None
    profile, _ = repository_layout.detect(git, project, commit)
    timings = []
    for index in range(0, width, max(1, width // sample)):
        module = f"{fixture.PACKAGE}.{fixture.context_module(0)}.{fixture.component_module(index)}"
        started = time.perf_counter()
        repository_layout.component_paths(git, project, commit, module, profile)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "repository modules": width,
        "component_paths ms first call": round(timings[0], 2),
        "component_paths ms median": round(statistics.median(timings), 2),
        "component_paths ms p90": round(statistics.quantiles(timings, n=10)[-1], 2),
    }


@contextmanager
def _database() -> Iterator[str]:
    with servers.running_postgres() as server:
        url = server.create_database(f"probe_{uuid.uuid4().hex[:8]}")
        db.migrate(url)
        try:
            yield url
        finally:
            db.dispose_engines(close=True)


def main(argv: list[str] | None = None) -> int:
    """Probe each width; print one JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--widths", default="1000,10000")
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--repo", action="store_true")
    parser.add_argument("--no-db", action="store_true")
    parser.add_argument("--young-statistics", action="store_true", help="no ANALYZE")
    args = parser.parse_args(argv)
    widths = [int(w) for w in args.widths.split(",")]
    report: dict[str, Any] = {"database": [], "repository": []}
    if not args.no_db:
        with _database() as url:
            _watch(db.get_engine(url))
            report["database"] = [
                probe_width(url, w, args.sample, analyze=not args.young_statistics) for w in widths
            ]
    if args.repo:
        with tempfile.TemporaryDirectory(prefix="width-probe-") as folder:
            report["repository"] = [
                probe_repository(Path(folder), w, min(args.sample, w)) for w in widths
            ]
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
