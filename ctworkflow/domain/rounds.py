"""Which components a fan-out round runs, and whether another round can change anything.

Pure. A component whose run failed *permanently* (its failure is an
:class:`~ctworkflow.errors.ComponentFailure`: a missing or unparsable source file, a module
that cannot be imported in the target's environment, a write outside the allowed set) failed
for a reason no further round can change, so no later round runs it again. The other
components still get their rounds: their verdicts are worth having (the session's report then
says, per component, what passes and what can still be fixed) and they are kept for a retry.
But once every failure left is permanent, no round can change the outcome, and the session
fails at once instead of spending the rounds that remain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol

from ctworkflow.domain.model import Session
from ctworkflow.domain.states import SessionStatus

#: Key of a child session's state that holds the reason it failed permanently.
PERMANENT_KEY: Final = "permanent_failure"


class _Judged(Protocol):
    @property
    def permanent(self) -> bool: ...


def failed_permanently(child: Session) -> bool:
    """Tell whether a child's last run failed for a reason no round can change."""
    return child.status is SessionStatus.FAILED and bool(child.state.get(PERMANENT_KEY))


def to_run(children: Sequence[Session]) -> list[Session]:
    """The children a round runs: every one not complete (validation fails the children it
    did not pass), never one that failed permanently."""
    return [
        child
        for child in children
        if child.status is not SessionStatus.COMPLETE and not failed_permanently(child)
    ]


def another_round_helps(failures: Sequence[_Judged]) -> bool:
    """Tell whether a further round could change a failed round's outcome."""
    return any(not failure.permanent for failure in failures)
