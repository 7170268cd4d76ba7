"""The commit that finalizes a context testing session: its message and its trailer."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ctworkflow.domain.landing import first_line
from ctworkflow.domain.model import ArtifactHead, Component, RoundChild
from ctworkflow.domain.states import SessionStatus

#: Git trailer naming the session a commit belongs to; it makes finalize idempotent.
SESSION_TRAILER: Final = "Ctw-Session"
_TRAILER_LINE: Final = re.compile(rf"^{SESSION_TRAILER}: ([0-9a-f-]{{36}})$", re.MULTILINE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One component in the commit: its name, module and test file."""

    name: str
    module_name: str
    test_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Left:
    """A component whose tests did not land (``finalize: passing``), and why."""

    name: str
    module_name: str
    reason: str


def _one_item(text: str) -> str:
    # Names are data: a line break inside one is kept, indented, so it can never pose as a
    # line of its own (a trailer, or an ``EOF``).
    return "\n    ".join(text.splitlines()) or "''"


def commit_message(
    context_name: str,
    session_id: uuid.UUID,
    entries: Sequence[Entry],
    left: Sequence[Left] = (),
) -> str:
    """The message: the context in the subject, every component listed (and those ``left``
    out, with why), the session trailer."""
    subject_name = " ".join(context_name.split())
    lines = [f"Add tests for the {subject_name} context", "", "Components:"]
    lines += [f"- {_one_item(e.name)} ({e.module_name}): {e.test_path}" for e in entries]
    if left:
        lines += ["", "Not landed (their tests did not pass):"]
        lines += [f"- {_one_item(e.name)} ({e.module_name}): {_one_item(e.reason)}" for e in left]
    lines += ["", f"{SESSION_TRAILER}: {session_id}", ""]
    return "\n".join(lines)


def session_of(message: str) -> uuid.UUID | None:
    """The session named by a commit message's trailer, if any."""
    found = _TRAILER_LINE.findall(message)
    return uuid.UUID(found[-1]) if found else None


class Landing(StrEnum):
    """What finalize does, given where the branch is on the remote."""

    PUSH = "push"  #: the branch is where initialize saw it: commit (if anything changed), push
    ALREADY_PUSHED = "already_pushed"  #: it holds this session's own commit: that stands
    MOVED = "moved"  #: someone else moved it: overwrite nothing, fail


def landing(
    head: str | None, expected: str | None, pushed_by_session: Callable[[str], bool]
) -> Landing:
    """Decide finalize's move from the branch's ``head`` now and the head initialize saw
    (``expected``); ``pushed_by_session`` tells whether a commit is this session's finalize
    commit (its trailer), and is asked only when the branch moved."""
    if head is None or head == expected:
        return Landing.PUSH
    return Landing.ALREADY_PUSHED if pushed_by_session(head) else Landing.MOVED


def landed(
    children: Sequence[RoundChild],
    components: Mapping[uuid.UUID, Component],
    artifacts: Mapping[uuid.UUID, ArtifactHead],
) -> list[Entry]:
    """The components whose test files land: the complete children that have an artifact."""
    return [
        Entry(
            name=components[c.component_id].name,
            module_name=components[c.component_id].module_name,
            test_path=artifacts[c.id].test_path,
        )
        for c in children
        if c.status is SessionStatus.COMPLETE and c.id in artifacts
    ]


def left_out(
    children: Sequence[RoundChild], components: Mapping[uuid.UUID, Component]
) -> list[Left]:
    """The components whose tests do not land (the children not complete), each with the first
    line of why."""
    return [
        Left(
            name=components[c.component_id].name,
            module_name=components[c.component_id].module_name,
            reason=first_line(c.error or c.status.value),
        )
        for c in children
        if c.status is not SessionStatus.COMPLETE
    ]
