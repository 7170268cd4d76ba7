"""Inputs of the CLI that need no database: settings, queue names, the worker's argv."""

from __future__ import annotations

import pytest

from ctworkflow import constants, errors
from ctworkflow.cli import options, workers


def test_settings_values_are_json_when_they_parse_else_text() -> None:
    assert options.parse_settings(["agent=command", "agent_timeout_s=20", 'argv=["a", "b"]']) == {
        "agent": "command",
        "agent_timeout_s": 20,
        "argv": ["a", "b"],
    }


@pytest.mark.parametrize("bad", ["agent", "=x", ""])
def test_a_setting_without_key_and_value_is_refused(bad: str) -> None:
    with pytest.raises(errors.InvalidInput, match="KEY=VALUE"):
        options.parse_setting(bad)


def test_queue_names_expand_and_keep_their_order_once() -> None:
    assert workers.parse_queues([]) == [
        constants.ORCHESTRATION_QUEUE,
        constants.COMPONENT_QUEUE,
        constants.VERIFICATION_QUEUE,
    ]
    assert workers.parse_queues(["components"]) == [constants.COMPONENT_QUEUE]
    assert workers.parse_queues(["components,orchestration", "ctw.components"]) == [
        constants.COMPONENT_QUEUE,
        constants.ORCHESTRATION_QUEUE,
    ]
    with pytest.raises(errors.InvalidInput, match="unknown queue 'steps'"):
        workers.parse_queues(["steps"])


def test_worker_argv_runs_our_app_on_the_chosen_queues() -> None:
    argv = workers.worker_argv(
        [constants.COMPONENT_QUEUE], concurrency=4, loglevel="WARNING", python="/py"
    )

    assert argv == [
        "/py",
        "-m",
        "celery",
        "-A",
        "ctworkflow.workers.components",
        "worker",
        "-Q",
        "ctw.components",
        "--loglevel",
        "WARNING",
        "--concurrency",
        "4",
    ]
    both = workers.worker_argv(workers.parse_queues(["all"]), pool="solo", python="/py")
    assert both[3:7] == ["-A", "ctworkflow.workers.orchestration", "worker", "-Q"]
    assert both[7] == "ctw.orchestration,ctw.components,ctw.verification"
    assert both[-2:] == ["--pool", "solo"]
    # A worker of the target's code alone (runs, validation) is the component workers' app.
    verifier = workers.worker_argv(workers.parse_queues(["verification"]), python="/py")
    assert verifier[3:8] == [
        "-A",
        "ctworkflow.workers.components",
        "worker",
        "-Q",
        "ctw.verification",
    ]
