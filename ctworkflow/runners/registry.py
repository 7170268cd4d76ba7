"""Build a test runner from its name."""

from __future__ import annotations

from ctworkflow import errors
from ctworkflow.runners.base import Runner
from ctworkflow.runners.mix_runner import MixRunner
from ctworkflow.runners.pytest_runner import PytestRunner

RUNNER_NAMES = ("mix", "pytest")


def get_runner(name: str) -> Runner:
    """Return the runner called name."""
    if name == "pytest":
        return PytestRunner()
    if name == "mix":
        return MixRunner()
    raise errors.InvalidInput(f"unknown runner {name!r}: expected one of {', '.join(RUNNER_NAMES)}")
