"""``python -m tests.benchmarks.round_memory [--file-bytes B] N``: a round's peak memory.

A worker process that spawns a round of N children and then validates it holds that round in
memory. This measures each on its own, in a fresh Python process, with the real steps
(:func:`ctworkflow.workflow.steps.spawn.spawn`, then the round sent as the spawn task sends it,
``CeleryDispatcher.send_round``, to a Redis of its own that no worker reads;
:func:`ctworkflow.workflow.steps.validate.validate` with the benchmark's no-op runner on a real
workspace of the base commit; :func:`ctworkflow.workflow.steps.finalize.finalize`, which
commits every test file and pushes the branch), on a throwaway PostgreSQL and a benchmark
repository of one context of N modules (``tests.benchmarks.fixture``). Between spawn and
validation, this process ends the children as their runs would (an artifact each, then
complete).

It prints, as one JSON document, each phase's resident memory after imports and its peak
(``VmRSS``, ``VmHWM`` of ``/proc/self/status``) in MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from tests import servers
from tests.benchmarks.chord_memory import memory_mb

REDIS_VARIABLE = "CTW_ROUND_MEMORY_REDIS"


def _phase(phase: str, url: str, workdir: str, scope_json: str, session_id: str) -> None:
    """One phase in this (fresh) process; prints its memory figures."""
    redis_url = os.environ.pop(REDIS_VARIABLE)  # not in argv: it holds the password
    os.environ["CTW_DATABASE_URL"] = url
    os.environ["CTW_DATA_DIR"] = workdir
    from celery.result import denied_join_result

    from ctworkflow.config import get_settings
    from ctworkflow.domain.model import Scope
    from ctworkflow.tasks.app import app
    from ctworkflow.tasks.dispatch import CeleryDispatcher
    from ctworkflow.workflow.deps import live_deps
    from ctworkflow.workflow.steps import finalize, spawn, validate
    from tests.benchmarks import noop

    noop.register()
    deps = live_deps(get_settings())
    scope = Scope.from_json(json.loads(scope_json))
    parent = uuid.UUID(session_id)
    before = memory_mb()
    result: Any
    if phase == "spawn":
        fan_out = spawn.spawn(scope, parent, 1, deps)
        assert fan_out is not None
        # Sent as the spawn task sends it, to a Redis of this run's own (no worker takes it).
        app.conf.update(broker_url=f"{redis_url}/0", result_backend=f"{redis_url}/1")
        with denied_join_result():
            CeleryDispatcher(app).send_round(scope, parent, 1, fan_out.run_ids)
        result = len(fan_out.run_ids)
    elif phase == "validate":
        result = validate.validate(scope, parent, 1, deps).value
    else:
        result = finalize.finalize(scope, parent, 1, deps)
    sys.stdout.write(json.dumps({"before": before, "after": memory_mb(), "result": result}))


def _run_phase(
    phase: str, url: str, redis_url: str, workdir: Path, scope_json: str, session_id: str
) -> Any:
    argv = [sys.executable, "-m", "tests.benchmarks.round_memory", "--phase", phase]
    argv += [url, str(workdir), scope_json, session_id]
    env = {**os.environ, REDIS_VARIABLE: redis_url}
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=1800, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{phase} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


def _end_children(url: str, scope_json: str, session_id: str, file_bytes: int) -> None:
    """What the round's runs would leave: an artifact per child (its test file padded with
    comment lines to ``file_bytes``), every child complete."""
    from ctworkflow.domain.model import Scope
    from ctworkflow.domain.states import SessionStatus
    from ctworkflow.persistence.db import unit_of_work
    from ctworkflow.workflow.test_files import digest
    from tests.benchmarks.noop import bench_test_file

    scope = Scope.from_json(json.loads(scope_json))
    with unit_of_work(url) as uow:
        children = uow.sessions.children(scope, uuid.UUID(session_id))
        for child in children:
            module = uow.catalog.get_component(scope, child.component_id).module_name
            path = (
                "tests/" + "/".join(module.split(".")[1:-1]) + f"/test_{module.rsplit('.')[-1]}.py"
            )
            content = padded(bench_test_file(module), file_bytes)
            uow.sessions.add_artifact(
                scope,
                child.id,
                attempt=1,
                test_path=path,
                content=content,
                digest=digest(content),
                report={"passed": 1},
            )
        uow.sessions.set_status(
            scope,
            [c.id for c in children],
            expected=SessionStatus.ACTIVE,
            target=SessionStatus.COMPLETE,
        )


def _context_session(url: str, root: Path, children: int) -> tuple[str, str]:
    from ctworkflow.domain.states import SessionType
    from ctworkflow.effects.git import Git
    from ctworkflow.persistence.db import unit_of_work
    from tests.benchmarks import fixture, noop
    from tests.benchmarks.shapes import Shape

    noop.register()
    bench = fixture.register(url, root / "repo", Shape(contexts=1, components=children))
    base = Git(root / "git").remote_head(str(bench.remote), "main")
    with unit_of_work(url) as uow:
        session = uow.sessions.add_session(
            bench.scope,
            type=SessionType.CONTEXT_TESTING,
            user_id="bench",
            component_id=bench.contexts[0].id,
            execution_mode="agentic",
            environment_type="local",
            agent=bench.agent,
            base_commit=base,
            branch_name="ctw-round-memory",
        )
    return json.dumps(bench.scope.to_json()), str(session.id)


def padded(content: str, size: int) -> str:
    """``content`` with comment lines appended until it is ``size`` characters or more."""
    line = "# " + "x" * 77 + "\n"
    missing = max(0, size - len(content))
    return content + line * -(-missing // len(line))


def measure(children: int, file_bytes: int = 0) -> dict[str, Any]:
    """Spawn, validate and finalize a round of ``children``, each phase in a process of its own."""
    from ctworkflow.persistence import db

    with (
        tempfile.TemporaryDirectory(prefix="ctw-round-memory-") as folder,
        servers.running_postgres() as server,
        servers.running_redis(Path(folder)) as redis,
    ):
        redis_url = redis.url(0).rsplit("/", 1)[0]
        url = server.create_database("round_memory")
        db.migrate(url)
        root = Path(folder)
        scope_json, session_id = _context_session(url, root, children)
        spawned = _run_phase("spawn", url, redis_url, root / "data", scope_json, session_id)
        _end_children(url, scope_json, session_id, file_bytes)
        validated = _run_phase("validate", url, redis_url, root / "data", scope_json, session_id)
        finalized = _run_phase("finalize", url, redis_url, root / "data", scope_json, session_id)
        db.dispose_engines(close=True)
    return {
        "children": children,
        "file_bytes": file_bytes,
        "spawn": spawned,
        "validate": validated,
        "finalize": finalized,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.round_memory")
    parser.add_argument("--phase", choices=("spawn", "validate", "finalize"))
    parser.add_argument(
        "--file-bytes",
        type=int,
        default=0,
        help="pad each component's test file to this size (default: the bench agent's file)",
    )
    parser.add_argument("args", nargs="+")
    parsed = parser.parse_args(argv)
    if parsed.phase:
        _phase(parsed.phase, *parsed.args)
        return 0
    document = measure(int(parsed.args[0]), parsed.file_bytes)
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
