"""Every ctworkflow error survives the ways Celery carries errors: pickle and its JSON format."""

from __future__ import annotations

import inspect
import pickle
import re
import uuid
from typing import Any

import pytest
from celery import Celery

from ctworkflow import errors

CLASSES = sorted(
    (
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.CtWorkflowError)
    ),
    key=lambda cls: cls.__name__,
)
SAMPLES: dict[str, Any] = {
    "message": "the settings are wrong: CTW_X",
    "object_id": "shop.accounts.user",
    "session_id": uuid.UUID(int=42),
    "current": "complete",
    "target": "active",
    "what": "the test file tests/test_user.py",
    "size": 3 << 20,
    "limit": 1 << 20,
    "setting": "CTW_MAX_TEST_FILE_BYTES",
}


def make(cls: type[errors.CtWorkflowError]) -> errors.CtWorkflowError:
    """An instance built from sample values of its constructor's parameters."""
    parameters = inspect.signature(cls).parameters
    return cls(**{name: SAMPLES[name] for name in parameters})


@pytest.fixture(scope="module")
def backend() -> Any:
    """A Celery result backend configured like ours (JSON results)."""
    app = Celery(broker="memory://", backend="cache+memory://")
    app.conf.result_serializer = "json"
    return app.backend


def same(rebuilt: BaseException, original: errors.CtWorkflowError) -> None:
    assert type(rebuilt) is type(original)
    assert str(rebuilt) == str(original)
    assert vars(rebuilt) == vars(original)


def test_every_error_of_the_drawn_tree_is_covered() -> None:
    drawn = re.findall(r"^\s+- (\w+)", errors.__doc__ or "", flags=re.MULTILINE)
    assert len(drawn) > 10
    assert set(drawn) <= {cls.__name__ for cls in CLASSES}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_error_keeps_message_and_attributes_through_pickle(
    cls: type[errors.CtWorkflowError],
) -> None:
    original = make(cls)

    same(pickle.loads(pickle.dumps(original)), original)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_error_keeps_message_and_attributes_through_celery_json(
    cls: type[errors.CtWorkflowError], backend: Any
) -> None:
    original = make(cls)

    carried = backend.prepare_exception(original, "json")
    rebuilt = backend.exception_to_python(carried)

    same(rebuilt, original)


def test_not_found_says_what_was_not_found_once() -> None:
    error = errors.ComponentNotFound("shop.x")

    assert str(error) == "component shop.x not found"
    assert str(pickle.loads(pickle.dumps(error))) == "component shop.x not found"


def test_an_error_without_a_message_says_its_docstring() -> None:
    assert str(errors.StepFailed()) == "A workflow step failed permanently."
    assert str(pickle.loads(pickle.dumps(errors.StepFailed()))) == str(errors.StepFailed())


def drawn_parents() -> dict[str, str]:
    """Each error of the docstring's tree with the error it is drawn under."""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for indent, name in re.findall(r"^( *)- (\w+)", errors.__doc__ or "", flags=re.MULTILINE):
        while stack and stack[-1][0] >= len(indent):
            stack.pop()
        if stack:
            parents[name] = stack[-1][1]
        stack.append((len(indent), name))
    return parents


def test_the_drawn_tree_is_the_class_tree() -> None:
    drawn = drawn_parents()

    assert {cls.__name__ for cls in CLASSES} - {"CtWorkflowError"} == set(drawn)
    for cls in CLASSES:
        if cls is not errors.CtWorkflowError:
            assert cls.__bases__ == (getattr(errors, drawn[cls.__name__]),), cls.__name__


TRANSIENT = {
    "TransientError",
    "CommandTimeout",
    "BrokerUnavailable",
    "GitError",
    "DatabaseUnavailable",
}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_only_transient_errors_are_retried(cls: type[errors.CtWorkflowError]) -> None:
    from ctworkflow.tasks.context import RETRY_ON

    error = make(cls)
    retried_by_celery = isinstance(error, RETRY_ON)

    assert errors.is_transient(error) is (cls.__name__ in TRANSIENT)
    assert retried_by_celery is errors.is_transient(error)


def test_a_git_command_that_failed_is_retried_but_a_remote_that_refused_is_not() -> None:
    assert errors.is_transient(errors.GitError("git fetch failed on ***@example.com"))
    for refused in (errors.BranchExists(), errors.RemoteMoved(), errors.ForeignCommits()):
        assert isinstance(refused, errors.StepFailed)
        assert not errors.is_transient(refused)
