"""Task events that tell a component run's outcome, so Flower shows a failed component failed.

A component run never raises into its chord: a failed component is a result, the task a
success, and the chord fires. Celery's own events would therefore show every run as SUCCESS,
whatever its component did (an event state machine in which SUCCESS outranks FAILURE, so no
later event can correct it). A task built on :class:`ReportsOutcome` sends its events itself:
``task-started`` when it begins, then ``task-succeeded`` with its result when its component
passed, or ``task-failed`` with the reason when it did not, ``task-revoked`` when revoked. Its
result in the backend (what the chord counts) stays the plain success it always was.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from celery import Task, states
from celery.signals import task_revoked
from celery.utils.saferepr import saferepr

logger = logging.getLogger(__name__)

#: Flower's event for each result ``status``: a component that passed (or whose round runs in
#: another worker) succeeded; a cancelled one was revoked; any other failed.
EVENTS = {"complete": "task-succeeded", "active": "task-succeeded", "cancelled": "task-revoked"}


#: When each running task of this process began (threads pools run several at once).
_started: dict[str, float] = {}


class ReportsOutcome(Task[Any, Any]):
    """Base of a task whose Flower state is its outcome; its result has a ``status``."""

    #: The worker's own events are off for this task; this class sends them.
    send_events = False

    def before_start(self, task_id: str, args: Any, kwargs: Any) -> None:
        _started[task_id] = time.monotonic()
        _send(self, "task-started", pid=os.getpid())

    def after_return(
        self, status: str, retval: Any, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        super().after_return(status, retval, task_id, args, kwargs, einfo)
        started = _started.pop(task_id, None)
        runtime = time.monotonic() - started if started is not None else None
        event = _event(retval) if status == states.SUCCESS else "task-failed"
        if event == "task-succeeded":
            result = saferepr(retval, self.resultrepr_maxsize)
            _send(self, event, result=result, runtime=runtime)
        elif event == "task-revoked":
            _send(self, event, terminated=False, signum=None, expired=False)
        else:
            _send(self, event, exception=_failure(retval), traceback="", runtime=runtime)


def _event(result: Any) -> str:
    if not isinstance(result, Mapping):
        return "task-succeeded"
    return EVENTS.get(str(result.get("status")), "task-failed")


def _failure(result: Any) -> str:
    """What Flower shows as the exception of a failed run: the component's reason."""
    if isinstance(result, Mapping):
        reason = str(result.get("reason") or "no reason recorded").strip().splitlines()
        first = reason[0] if reason else "no reason recorded"
        return f"ComponentFailed({result.get('status', 'failed')}: {first})"
    return saferepr(result, 300)


def _send(task: Task[Any, Any], event: str, **fields: Any) -> None:
    """Send one event of the running task; a lost event never fails the run."""
    try:
        task.send_event(event, retry=False, **fields)
    except Exception:
        logger.debug("could not send %s", event, exc_info=True)


@task_revoked.connect(weak=False)
def _revoked(
    sender: Task[Any, Any] | None = None,
    request: Any = None,
    terminated: bool = False,
    signum: Any = None,
    expired: bool = False,
    **_: Any,
) -> None:
    # Revoked in the worker's main process, where Celery would have sent the event itself.
    if not isinstance(sender, ReportsOutcome) or request is None:
        return
    try:
        with sender.app.events.default_dispatcher(hostname=request.hostname) as dispatcher:
            dispatcher.send(
                "task-revoked",
                uuid=request.id,
                terminated=terminated,
                signum=signum,
                expired=expired,
                retry=False,
            )
    except Exception:
        logger.debug("could not send task-revoked", exc_info=True)
