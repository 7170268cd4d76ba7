"""Sending a round's chord, as the spawn step does, in a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def chord_memory(children: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.chord_memory", children],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_sent_round_leaves_no_subscription_or_result_in_the_sending_process() -> None:
    done = chord_memory("200")

    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["children"] == 200
    assert document["left_in_process"] == {"redis_subscriptions": 0, "results_waited_on": 0}
    assert list(document["stages"]) == ["before", "signatures built", "chord sent"]
    # Nothing is left to unsubscribe when the process ends (Celery's noisy __del__).
    assert "Exception ignored" not in done.stderr


def test_the_measure_refuses_an_empty_chord() -> None:
    done = chord_memory("0")

    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith("children must be at least 1")
