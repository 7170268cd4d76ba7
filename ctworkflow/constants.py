"""Wire-level names: queues and task names. Moving a module must never orphan a message."""

from __future__ import annotations

from typing import Final

#: Short orchestration steps (initialize, spawn, finalize, release, reconcile, webhooks).
ORCHESTRATION_QUEUE: Final = "ctw.orchestration"
#: Long component testing runs (agents and test runners).
COMPONENT_QUEUE: Final = "ctw.components"
#: Validation: a round's chord callback, which runs the target's tests outside a component run
#: (minutes for a slow suite), kept off the orchestration queue so no step waits behind it.
VERIFICATION_QUEUE: Final = "ctw.verification"
#: Every queue: what a worker of all of them (``ctw worker``, ``ctw demo``) consumes.
QUEUES: Final = (ORCHESTRATION_QUEUE, COMPONENT_QUEUE, VERIFICATION_QUEUE)

START_CONTEXT_TESTING: Final = "ctworkflow.start_context_testing"
INITIALIZE: Final = "ctworkflow.context.initialize"
SPAWN: Final = "ctworkflow.context.spawn_component_testing_sessions"
VALIDATE: Final = "ctworkflow.context.validate"
FINALIZE: Final = "ctworkflow.context.finalize"
RELEASE_BRANCH: Final = "ctworkflow.context.release_branch"
RUN_COMPONENT: Final = "ctworkflow.component.run"
RECONCILE: Final = "ctworkflow.reconcile"
#: The status task a backend calls by name: a session's summary as JSON.
GET_SESSION: Final = "ctworkflow.get_session"
DELIVER_WEBHOOK: Final = "ctworkflow.webhooks.deliver"
SWEEP_WEBHOOKS: Final = "ctworkflow.webhooks.sweep"

ORCHESTRATION_TASKS: Final = (
    START_CONTEXT_TESTING,
    INITIALIZE,
    SPAWN,
    FINALIZE,
    RELEASE_BRANCH,
    RECONCILE,
    GET_SESSION,
    DELIVER_WEBHOOK,
    SWEEP_WEBHOOKS,
)
COMPONENT_TASKS: Final = (RUN_COMPONENT,)
VERIFICATION_TASKS: Final = (VALIDATE,)
