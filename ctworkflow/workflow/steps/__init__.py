"""The steps of a context testing session, one module each: :mod:`.initialize` creates the
branch, :mod:`.spawn` chooses a round's children, :mod:`.validate` judges the round (the chord
callback), :mod:`.finalize` commits and pushes. :mod:`ctworkflow.workflow.drive` runs each one,
then sends what comes next."""

from __future__ import annotations

from ctworkflow.workflow.steps import finalize, initialize, spawn, validate

__all__ = ["finalize", "initialize", "spawn", "validate"]
