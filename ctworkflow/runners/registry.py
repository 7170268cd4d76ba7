"""Build a test runner from its name."""

from __future__ import annotations

from ctworkflow import errors
from ctworkflow.runners.base import Runner
from ctworkflow.runners.bench import BENCH_RUNNER, BenchNoopRunner
from ctworkflow.runners.mix_runner import MixRunner
from ctworkflow.runners.pytest_runner import PytestRunner

#: The runners offered to users. ``bench-noop`` (the benchmark's zero-cost runner) is not
#: listed: it runs only when a project's ``runner`` setting names it, and is never a default.
RUNNER_NAMES = ("mix", "pytest")


def get_runner(name: str) -> Runner:
    """Return the runner called name."""
    if name == "pytest":
        return PytestRunner()
    if name == "mix":
        return MixRunner()
    if name == BENCH_RUNNER:
        return BenchNoopRunner()
    raise errors.InvalidInput(f"unknown runner {name!r}: expected one of {', '.join(RUNNER_NAMES)}")
