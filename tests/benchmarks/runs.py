"""One shape measured on the benchmark's servers and workers, whatever its kind."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from celery import Celery

from tests.benchmarks import fixture
from tests.benchmarks.bare import run_bare
from tests.benchmarks.fleet import ROOT, Fleet, MemorySampler
from tests.benchmarks.head_of_line import run_head_of_line
from tests.benchmarks.incremental import run_incremental
from tests.benchmarks.noop import NOOP
from tests.benchmarks.orchestrated import run_orchestrated, warm_up
from tests.benchmarks.sandboxed import SANDBOXED
from tests.benchmarks.shapes import Kind, Shape

#: Time allowed to each path of a shape: a base, plus this much per child.
BASE_TIMEOUT_S: Final = 120.0
TIMEOUT_PER_CHILD_S: Final = 0.25
#: Trivial programs timed for the sandbox's start-up, with it and without.
STARTUP_RUNS: Final = 20
SANDBOX_MODES: Final = ("bubblewrap", "none")


@dataclass(frozen=True, slots=True, kw_only=True)
class Bench:
    """What every shape runs on: the client, the database, the workers and their memory."""

    client: Celery
    database_url: str
    fleet: Fleet
    sampler: MemorySampler
    workdir: Path


#: The head-of-line shape's slow context runs real pytest processes (its component run, then
#: validation with its measurements): minutes on a loaded machine whatever its sleep.
HEAD_OF_LINE_BASE_TIMEOUT_S: Final = 900.0


def timeout_for(shape: Shape) -> float:
    base = HEAD_OF_LINE_BASE_TIMEOUT_S if shape.kind is Kind.HEAD_OF_LINE else BASE_TIMEOUT_S
    return base + TIMEOUT_PER_CHILD_S * shape.children + 10 * shape.argument


def measure(bench: Bench, shape: Shape) -> dict[str, Any]:
    """The shape's document: bare against orchestrated, or what its kind measures."""
    root = bench.workdir / f"repo-{shape.name.replace(':', '-')}"
    if shape.kind is Kind.INCREMENTAL:
        run = run_incremental(
            bench.client, bench.database_url, shape, root, timeout_for(shape), bench.sampler
        )
        for peaks in run["memory"].values():
            _mark_spawners(bench.fleet, peaks)
        return run
    if shape.kind is Kind.HEAD_OF_LINE:
        return run_head_of_line(bench.client, bench.database_url, shape, root, timeout_for(shape))
    double = SANDBOXED if shape.kind is Kind.SANDBOX else NOOP
    project = fixture.register(bench.database_url, root, shape, agent=double, runner=double)
    if shape.kind is not Kind.CHORD:  # the chord shapes stay measured as they always were
        warm_up(bench.client, bench.database_url, project, timeout_for(shape))
    run = _bare_and_orchestrated(bench, shape, project)
    if shape.kind is Kind.SANDBOX:
        run.update(_sandbox_off(bench, shape, root, run))
    return run


def _bare_and_orchestrated(
    bench: Bench, shape: Shape, project: fixture.BenchProject
) -> dict[str, Any]:
    timeout = timeout_for(shape)
    with bench.sampler.window() as bare_memory:
        bare = run_bare(bench.client, shape, timeout)
    with bench.sampler.window() as orchestrated_memory:
        orchestrated, statuses = run_orchestrated(
            bench.client, bench.database_url, project, timeout
        )
    _mark_spawners(bench.fleet, orchestrated_memory)
    return {
        "shape": shape.to_json(),
        "bare": bare.to_json(),
        "orchestrated": {**orchestrated.to_json(), "sessions": statuses},
        "ratio": round(orchestrated.seconds / bare.seconds, 3),
        "memory": {"bare": bare_memory, "orchestrated": orchestrated_memory},
    }


def _mark_spawners(fleet: Fleet, peaks: list[dict[str, Any]]) -> None:
    spawners = fleet.spawners()
    for peak in peaks:
        peak["spawned_a_round"] = peak["pid"] in spawners


def _sandbox_off(bench: Bench, shape: Shape, root: Path, on: dict[str, Any]) -> dict[str, Any]:
    """The same shape on workers with ``CTW_SANDBOX=none``, then the workers as they were."""
    project = fixture.register(
        bench.database_url,
        root.with_name(root.name + "-off"),
        shape,
        agent=SANDBOXED,
        runner=SANDBOXED,
    )
    env = dict(bench.fleet.env)
    startup = {mode: sandbox_startup({**env, "CTW_SANDBOX": mode}) for mode in SANDBOX_MODES}
    bench.fleet.restart(bench.client, {**env, "CTW_SANDBOX": "none"})
    try:
        bench.sampler.mains = bench.fleet.pids
        warm_up(bench.client, bench.database_url, project, timeout_for(shape))
        with bench.sampler.window() as memory:
            off, statuses = run_orchestrated(
                bench.client, bench.database_url, project, timeout_for(shape)
            )
        _mark_spawners(bench.fleet, memory)
    finally:
        bench.fleet.restart(bench.client, env)
        bench.sampler.mains = bench.fleet.pids
    cost = on["orchestrated"]["per_child_ms"] - off.per_child_ms
    return {
        "orchestrated_sandbox_off": {**off.to_json(), "sessions": statuses},
        "memory_sandbox_off": memory,
        "sandbox_per_child_ms": round(cost, 3),
        "sandbox_startup": startup,
    }


def sandbox_startup(env: dict[str, str]) -> dict[str, Any]:
    """:mod:`~tests.benchmarks.sandbox_startup` run with the workers' settings ``env``."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.sandbox_startup", str(STARTUP_RUNS)],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout)
    return found
