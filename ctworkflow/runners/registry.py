"""Build a test runner from its name.

The registry holds the production runners. A process may add its own with
:func:`register_runner` (the benchmark's worker adds a zero-cost double); no other process knows
them, so a project setting or a session can never name one there.
"""

from __future__ import annotations

from collections.abc import Callable

from ctworkflow import errors
from ctworkflow.domain.inputs import preview
from ctworkflow.runners.base import Runner
from ctworkflow.runners.mix_runner import MixRunner
from ctworkflow.runners.pytest_runner import PytestRunner

RunnerFactory = Callable[[], Runner]

_FACTORIES: dict[str, RunnerFactory] = {"mix": MixRunner, "pytest": PytestRunner}


#: The runners every process has.
_PRODUCTION = frozenset(_FACTORIES)


def register_runner(name: str, factory: RunnerFactory) -> None:
    """Make ``name`` a runner of this process (test and benchmark doubles only)."""
    _FACTORIES[name] = factory


def unregister_runner(name: str) -> None:
    """Forget a runner :func:`register_runner` added; the production ones stay."""
    if name in _PRODUCTION:
        raise ValueError(f"{name} is a production runner")
    _FACTORIES.pop(name, None)


def runner_names() -> tuple[str, ...]:
    """The runners this process can build, sorted."""
    return tuple(sorted(_FACTORIES))


def check_runner(name: object) -> str:
    """``name`` if it names a runner of this process, else raise InvalidInput."""
    if not isinstance(name, str) or name not in _FACTORIES:
        shown = preview(name) if isinstance(name, str) else repr(name)
        raise errors.InvalidInput(
            f"unknown runner {shown}: expected one of {', '.join(runner_names())}"
        )
    return name


def get_runner(name: str) -> Runner:
    """Return the runner called name."""
    return _FACTORIES[check_runner(name)]()
