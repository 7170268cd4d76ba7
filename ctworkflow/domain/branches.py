"""Whose is a context's branch: may a new session take it over, may a session delete it.

Pure decisions over what git and the database say. A branch belongs to its context: a new
session of the context takes it over when every commit the branch holds beyond the new base
was made by ctworkflow for a session of that same context that has ended (its commit message
carries the ``Ctw-Session`` trailer, see :mod:`ctworkflow.domain.commits`), and rebuilds it on
the new base. A commit that ctworkflow did not make, or made for another context or for a
session still running, is never overwritten.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

from ctworkflow.domain import commits
from ctworkflow.domain.model import Session
from ctworkflow.domain.states import SessionStatus

#: How many foreign commits the refusal names before it says "and N more".
NAMED_COMMITS: Final = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class BranchCommit:
    """A commit the branch holds beyond the base: its id, subject and the session it names."""

    sha: str
    subject: str
    session_id: uuid.UUID | None

    @classmethod
    def parse(cls, sha: str, message: str) -> BranchCommit:
        """Read a commit from its id and full message."""
        subject = message.strip().splitlines()[0] if message.strip() else ""
        return cls(sha=sha, subject=subject, session_id=commits.session_of(message))


def may_take_over(session: Session | None, *, context_id: uuid.UUID, current_id: uuid.UUID) -> bool:
    """Tell whether a commit made for ``session`` may be dropped by the session ``current_id``.

    Only commits of an ended context testing session of the same context (or of the current
    session itself, on a redelivery) may.
    """
    if session is None or session.parent_id is not None or session.component_id != context_id:
        return False
    return session.terminal or session.id == current_id


def foreign(
    branch_commits: Sequence[BranchCommit], owned: Collection[uuid.UUID]
) -> list[BranchCommit]:
    """The commits that name no session in ``owned``: the ones a takeover would destroy."""
    return [c for c in branch_commits if c.session_id is None or c.session_id not in owned]


def refusal(branch: str, remote: str, found: Sequence[BranchCommit]) -> str:
    """One line naming the commits that keep a session from taking over ``branch``."""
    named = ", ".join(f"{c.sha[:12]} ({c.subject[:60]!r})" for c in found[:NAMED_COMMITS])
    more = len(found) - NAMED_COMMITS
    if more > 0:
        named += f" and {more} more"
    noun = "commit" if len(found) == 1 else "commits"
    return (
        f"branch {branch} on {remote} holds {len(found)} {noun} ctworkflow did not make for an "
        f"ended session of this context: {named}; not overwriting it (merge or delete the "
        "branch, or rename the context)"
    )


def may_delete(status: SessionStatus, *, created: bool, head: str | None, base: str | None) -> bool:
    """Tell whether an ended session deletes its branch: it created it, and the branch is
    still at the base with nothing on it (the session failed, was cancelled, or had nothing
    to commit). A branch it found, or one that moved, is left alone."""
    if status is SessionStatus.ACTIVE or not created:
        return False
    return head is not None and head == base


def taken_over(head: str | None, base: str) -> bool:
    """Whether the branch a session claimed already had commits: it found it at ``head``,
    somewhere else than its base."""
    return head is not None and head != base
