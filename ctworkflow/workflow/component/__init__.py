"""A component testing session's round, run as a chord header task that never raises.

- :mod:`.run`: the run itself: claim the child, walk the steps in a workspace of the base
  commit, record how it ended (:func:`run_component`).
- :mod:`.claim`: the claim, one transaction: the job, the child's lease, what an interrupted
  run left open.
- :mod:`.job`: what a run reads once from the database, and its component's paths.
- :mod:`.patience`: the claim and the end wait out a database restart.
- :mod:`.walk`: the walk through the child's routing table, one interaction per step, noted
  in the run's journal (:mod:`ctworkflow.workflow.journal`).
- :mod:`.steps`: the steps, one function each (initialize, the agent, the tests, the check
  of the agent's changes), over the state they share (:mod:`.workspace`).
"""

from __future__ import annotations

from ctworkflow.workflow.component.run import STOP_CHECK_INTERVAL_S, ChildResult, run_component

__all__ = ["STOP_CHECK_INTERVAL_S", "ChildResult", "run_component"]
