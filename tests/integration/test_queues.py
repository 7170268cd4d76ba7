"""Each queue has its own exchange and routing key: a message routed to one reaches it only;
and a slow validation, on its own queue, holds no step of another session."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis
from celery import Celery

from ctworkflow import api, constants
from ctworkflow.domain import model
from ctworkflow.domain.repository.layouts import Layout, test_file_path
from ctworkflow.domain.states import ParentStep, ResultStatus, SessionStatus
from tests import servers
from tests.cli_support import worker_env, worker_process
from tests.workflow_support import Project, make_project, wait_for, wait_until_terminal

QUEUES = constants.QUEUES


@pytest.mark.parametrize("target", QUEUES)
def test_a_message_routed_to_one_queue_reaches_only_that_queue(
    redis_server: servers.RedisServer, target: str
) -> None:
    # Given our configuration on a Redis database no worker consumes from.
    url = redis_server.url(7)
    client = redis.Redis.from_url(url)
    client.flushdb()
    app = Celery("ctworkflow")
    app.config_from_object("ctworkflow.celery_defaults")
    app.conf.update(broker_url=url, result_backend=redis_server.url(8))
    with app.connection_for_write() as connection:  # declare both queues, as workers do
        for queue in app.amqp.queues.values():
            queue.bind(connection.default_channel).declare()

    # When a message is published through the exchange and routing key its queue declares
    # (what a producer that routes by key, or an AMQP broker, does).
    queue = app.amqp.queues[target]
    with app.producer_or_acquire() as producer:
        producer.publish({"hello": target}, exchange=queue.exchange, routing_key=queue.routing_key)

    # Then it waits in that queue alone.
    lengths = {name: client.llen(name) for name in QUEUES}
    assert lengths == {name: int(name == target) for name in QUEUES}
    client.flushdb()


#: A test of the project's own that takes its time: what validation runs again, twice (at the
#: base and with the round's files), on the verification worker.
SLOW_TEST = '''"""The project's own test of {module}: slow, as real suites are."""

import time


def test_takes_its_time() -> None:
    time.sleep(20)
'''
#: Settings that keep the slow project's component run short: no mutants, no repeated runs.
QUICK_RUN = {"max_mutants": 0, "flaky_runs": 0}


def running(client: Celery, node: str, task: str) -> list[str]:
    """The argument summaries (session ids) of ``task`` that ``node`` runs now."""
    active = client.control.inspect([node], timeout=2).active() or {}
    return [str(t["args"]) for t in active.get(node, []) if t["name"] == task]


def steps_of(project: Project, session_id: uuid.UUID) -> dict[str, model.Interaction]:
    """The session's interactions by step, as recorded now."""
    details = api.session_details(project.scope, session_id)
    return {i.step: i for i in details.interactions}


# Two whole sessions, one with a test file of 20 s run four times (twice by its component run,
# twice by validation), on three workers of one process each: two to three minutes on a quiet
# 2-core machine, so it is in the slow tier, with a deadline of its own.
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_steps_of_other_sessions_move_while_a_slow_validation_runs(
    postgres_db: str, redis_server: servers.RedisServer, tmp_path: Path
) -> None:
    # Given a worker per queue, each with one process, on broker and result databases no
    # other worker reads: the orchestration worker's one slot is all the steps have.
    env = worker_env(redis_server, 10)
    # A project whose test file sleeps (its agent keeps the file), and a quick one.
    slow = make_project(tmp_path / "slow", modules=("user",), settings=QUICK_RUN)
    (module,) = (c.module_name for c in slow.components)
    slow.push({test_file_path(Layout.PYTHON, module): SLOW_TEST.format(module=module)}, "Slow")
    slow.plan({module: ["keep"]})
    quick = make_project(tmp_path / "quick", modules=("user",))
    client = Celery(broker=env["CTW_BROKER_URL"], backend=env["CTW_RESULT_BACKEND"])
    logs = tmp_path / "logs"
    logs.mkdir()
    with (
        worker_process(constants.ORCHESTRATION_QUEUE, "workers.orchestration", env, logs) as steps,
        worker_process(constants.COMPONENT_QUEUE, "workers.components", env, logs),
        worker_process(constants.VERIFICATION_QUEUE, "workers.components", env, logs) as verifier,
    ):

        def start(project: Project) -> uuid.UUID:
            sent = client.send_task(
                constants.START_CONTEXT_TESTING,
                kwargs={**project.scope.to_json(), "context": project.context.module_name},
                queue=constants.ORCHESTRATION_QUEUE,
            )
            return uuid.UUID(sent.get(timeout=120))

        first = start(slow)
        # When the first session's validation runs its slow test file on the verification
        # worker ...
        wait_for(
            lambda: any(str(first) in a for a in running(client, verifier, constants.VALIDATE)),
            timeout_s=300,
            what="the slow session's validation to run on the verification worker",
        )
        second = start(quick)

        # Then the second session is initialized and its round spawned (its components run)
        # while the first one's validation still runs: no step waited behind it.
        def spawned() -> bool:
            details = api.session_details(quick.scope, second)
            return bool(details.children)  # created by the spawn step, with its round

        wait_for(spawned, timeout_s=300, what="the second session's round to be spawned")
        assert any(str(first) in a for a in running(client, verifier, constants.VALIDATE))
        round_of_first = steps_of(slow, first)[ParentStep.SPAWN_COMPONENT_TESTING_SESSIONS]
        assert round_of_first.outcome is None, "the slow validation had already ended"
        initialized = steps_of(quick, second)[ParentStep.INITIALIZE]
        assert initialized.outcome is not None and initialized.outcome.status is ResultStatus.OK
        # And both sessions end complete, each validated on the verification worker, never on
        # the orchestration worker.
        for project, session_id in ((slow, first), (quick, second)):
            ended = wait_until_terminal(project.scope, session_id, timeout_s=600)
            assert ended.status is SessionStatus.COMPLETE, ended.error
        client.close()
    validations = {
        node: (logs / f"{node}.log").read_text().count(f"{constants.VALIDATE}[")
        for node in (steps, verifier)
    }
    assert validations[steps] == 0 and validations[verifier] >= 2, validations
