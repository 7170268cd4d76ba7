"""A pool process whose memory peaked above ``CTW_WORKER_MAX_MEMORY_MB`` is replaced by a fresh
one once its task ends, so what a wide round's spawn or validation took is not carried into the
next task; with the limit at 0 the same process serves every task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from celery import Celery

from ctworkflow import constants
from tests import servers
from tests.cli_support import worker_env, worker_process
from tests.workflow_support import wait_for

#: A task every Celery app has, that needs nothing of ours (it sweeps expired results).
BUILT_IN_TASK = "celery.backend_cleanup"


def pool_processes(client: Celery, node: str) -> list[int]:
    """The ids of the pool processes ``node`` has now (empty while it does not answer)."""
    stats: dict[str, Any] = client.control.inspect([node], timeout=2).stats() or {}
    return [int(pid) for pid in stats.get(node, {}).get("pool", {}).get("processes", [])]


def answered(client: Celery, node: str) -> list[int]:
    """The pool processes of ``node``, asked again until it answers (a busy machine may miss
    the two seconds a reply is waited for)."""
    found: list[int] = []

    def asked() -> bool:
        found[:] = pool_processes(client, node)
        return bool(found)

    wait_for(asked, 120, "the worker to answer")
    return found


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("limit_mb", "replaced"), [("1", True), ("0", False)])
def test_a_pool_process_past_the_memory_limit_is_replaced_once_its_task_ends(
    redis_server: servers.RedisServer, tmp_path: Path, limit_mb: str, replaced: bool
) -> None:
    # Given a worker of one pool process, with a limit every process is over (1 MB) or none.
    env = worker_env(redis_server, 12, CTW_WORKER_MAX_MEMORY_MB=limit_mb)
    client = Celery("ctworkflow")
    client.config_from_object("ctworkflow.celery_defaults")
    client.conf.update(broker_url=env["CTW_BROKER_URL"], result_backend=env["CTW_RESULT_BACKEND"])
    queue = constants.ORCHESTRATION_QUEUE
    with worker_process(queue, "workers.orchestration", env, tmp_path) as node:
        (before,) = answered(client, node)

        # When the pool process runs a task.
        client.send_task(BUILT_IN_TASK, queue=queue).get(timeout=120)

        # Then a fresh process took its place, or, with no limit, it is still the one.
        if replaced:
            wait_for(
                lambda: pool_processes(client, node) not in ([], [before]),
                120,
                "the pool process to be replaced",
            )
        else:
            assert answered(client, node) == [before]
