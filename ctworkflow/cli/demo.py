"""``ctw demo``: a whole context testing session on this machine, with no server at all.

It builds a sample Python repository (a context of five components) with a bare repository as
its remote in a fresh folder under the data folder, registers it as a new project of the
``demo`` account, starts a local Celery worker for both queues, runs a session with the live
view, prints the branch, the commit and a per-component table, and stops the worker it
started. Every run uses new folders and a new project, so it can run again and again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ctworkflow import errors
from ctworkflow.cli import demo_sample as samples
from ctworkflow.cli import render, shapes, watching, workers
from ctworkflow.cli.demo_sample import SampleRepo, python_sample
from ctworkflow.config import get_settings
from ctworkflow.domain.model import Component, Scope
from ctworkflow.domain.states import SessionStatus
from ctworkflow.effects.sandbox_probe import sandbox_problem
from ctworkflow.persistence import db as database
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import catalog, lifecycle
from ctworkflow.services.session_views import SessionDetails
from ctworkflow.tasks import live

MODULES: Final = ("user", "user_repository", "session_token", "password_policy", "accounts_live")
ACCOUNT: Final = "demo"
WORKER_STOP_TIMEOUT_S: Final = 30.0


class DemoWorkerDied(errors.CtWorkflowError):
    """The demo's worker stopped before the session ended."""


def run_demo(*, interval_s: float = 0.5, timeout_s: float = 600.0) -> int:
    """Run the demo; return the exit status (0 when the session completed)."""
    console = render.console()
    database.migrate()
    stamp = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    root = get_settings().data_dir / "demo" / stamp
    root.mkdir(parents=True)
    sample = python_sample(root, modules=MODULES)
    scope, context, project_name = _register(sample, stamp)
    console.print(f"sample repository: {sample.remote} (context {sample.context_module})")
    worker, log = _start_worker(root, stamp, _worker_sandbox(console))
    console.print(f"worker started (pid {worker.pid}, log {log})")
    try:
        session = lifecycle.start_context_testing(scope, context.id, deps=live.deps())
        details = watching.watch(
            scope,
            session.id,
            interval_s=interval_s,
            timeout_s=timeout_s,
            check=lambda: _check_alive(worker, log),
            transient=True,
        )
    finally:
        _stop_worker(worker)
        console.print(f"worker stopped (pid {worker.pid})")
    console.print(_summary(details, sample, project_name))
    console.print(render.components_table(shapes.component_rows(details, datetime.now(UTC))))
    return 0 if details.session.status is SessionStatus.COMPLETE else 1


def _register(sample: SampleRepo, stamp: str) -> tuple[Scope, Component, str]:
    name = f"shop-{stamp}"
    with unit_of_work() as uow:
        account = catalog.account_named(uow, ACCOUNT)
        project = catalog.create_project(
            uow, account.id, name=name, code_repo=str(sample.remote), layout="python"
        )
        scope = Scope(account_id=account.id, project_id=project.id, user_id="demo")
        context, _ = samples.register(uow, scope, sample)
    return scope, context, name


def _worker_sandbox(console: Console) -> dict[str, str]:
    """The demo worker's sandbox variable: none, saying so in one line, when the host cannot run
    the default one and the user did not ask for it (the sample is the demo's own code; the
    workers for real repositories still refuse to start without their sandbox)."""
    if os.environ.get("CTW_SANDBOX"):
        return {}  # the user's choice stands: a worker that cannot have it refuses to start
    problem = sandbox_problem(get_settings())
    if problem is None:
        return {}
    console.print(
        "[yellow]no sandbox:[/] the demo runs its own sample without one; workers for real "
        f"repositories refuse to: {escape(problem)}",
        soft_wrap=True,  # one line, however narrow the terminal
    )
    return {"CTW_SANDBOX": "none"}


def _start_worker(
    root: Path, stamp: str, variables: dict[str, str]
) -> tuple[subprocess.Popen[bytes], Path]:
    log = root / "worker.log"
    argv = workers.worker_argv(
        list(workers.QUEUES.values()),
        concurrency=2,
        loglevel="INFO",
        hostname=f"demo-{stamp}@%h",
    )
    with log.open("wb") as out:
        # Its own session: a Ctrl-C in the terminal reaches us, and we stop it in order.
        worker = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=root,
            env={**os.environ, **variables},
        )
    return worker, log


def _check_alive(worker: subprocess.Popen[bytes], log: Path) -> None:
    code = worker.poll()
    if code is not None:
        raise DemoWorkerDied(f"the demo worker exited with status {code}; see {log}")


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """Warm shutdown (SIGTERM), then SIGKILL to its process group if it hangs."""
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(WORKER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)  # the group of the process we started
        worker.wait(WORKER_STOP_TIMEOUT_S)


def _summary(details: SessionDetails, sample: SampleRepo, project: str) -> Table:
    session = details.session
    table = Table.grid(padding=(0, 2))
    for name, value in (
        ("session", f"{session.id} {session.status.value}"),
        ("branch", session.branch_name or "-"),
        ("commit", details.session.pushed_commit or "-"),
        ("remote", str(sample.remote)),
        ("show it", f"ctw session show {session.id} --account {ACCOUNT} --project {project}"),
    ):
        table.add_row(name, value)
    if session.error:
        table.add_row("error", session.error)
    return table
