"""A component testing session's round, run as a chord header task that never raises.

- :mod:`.run`: the run itself: load the job, hold the child's lease, walk the steps in a
  workspace of the base commit, record how it ended (:func:`run_component`).
- :mod:`.job`: what a run reads once from the database, and its component's paths.
- :mod:`.walk`: the walk through the child's routing table, one interaction per step.
- :mod:`.steps`: the steps, one function each (initialize, the agent, the tests, the check
  of the agent's changes), over the state they share (:mod:`.workspace`).
"""

from __future__ import annotations

from ctworkflow.workflow.component.run import STOP_CHECK_INTERVAL_S, ChildResult, run_component

__all__ = ["STOP_CHECK_INTERVAL_S", "ChildResult", "run_component"]
