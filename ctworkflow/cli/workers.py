"""``ctw worker``: the argv of a Celery worker for some or all queues (never a shell string)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Final

from ctworkflow import constants, errors

#: Queue names the ``--queue`` option accepts, and the queues they stand for.
QUEUES: Final = {
    "orchestration": constants.ORCHESTRATION_QUEUE,
    "components": constants.COMPONENT_QUEUE,
    "verification": constants.VERIFICATION_QUEUE,
}


def parse_queues(names: Sequence[str]) -> list[str]:
    """Broker queue names from ``orchestration``/``components``/``verification``/``all`` (or
    the real names); nothing named means all of them."""
    chosen: list[str] = []
    for name in names or ["all"]:
        for part in name.split(","):
            key = part.strip()
            if key == "all":
                wanted = list(QUEUES.values())
            elif key in QUEUES:
                wanted = [QUEUES[key]]
            elif key in QUEUES.values():
                wanted = [key]
            else:
                expected = ", ".join(QUEUES)
                raise errors.InvalidInput(f"unknown queue {key!r}: expected {expected} or all")
            chosen += [q for q in wanted if q not in chosen]
    return chosen


def worker_argv(
    queues: Sequence[str],
    *,
    concurrency: int | None = None,
    pool: str | None = None,
    loglevel: str | None = None,
    hostname: str | None = None,
    python: str = sys.executable,
) -> list[str]:
    """The command that runs a Celery worker of our app consuming ``queues``.

    A worker of no orchestration queue runs the target's code only (component runs,
    validation): the component workers' app, whose start-up checks are the same.
    """
    app = (
        "ctworkflow.workers.orchestration"
        if constants.ORCHESTRATION_QUEUE in queues
        else "ctworkflow.workers.components"
    )
    argv = [python, "-m", "celery", "-A", app, "worker", "-Q", ",".join(queues)]
    if loglevel is not None:  # else CTW_LOG_LEVEL (INFO by default): ctworkflow.logs
        argv += ["--loglevel", loglevel]
    if concurrency is not None:
        argv += ["--concurrency", str(concurrency)]
    if pool is not None:
        argv += ["--pool", pool]
    if hostname is not None:
        argv += ["--hostname", hostname]
    return argv
