"""An error a worker raises reaches a Celery client with its type and its message, once."""

from __future__ import annotations

import pytest

from ctworkflow import constants, errors
from ctworkflow.tasks.app import app
from tests.factories import make_tenant


def test_a_not_found_error_keeps_its_message_through_the_result_backend(workflow_db: str) -> None:
    tenant = make_tenant(workflow_db)

    result = app.send_task(
        constants.START_CONTEXT_TESTING,
        kwargs={**tenant.scope.to_json(), "context": "MyApp.Nothing"},
        queue=constants.ORCHESTRATION_QUEUE,
    )
    with pytest.raises(errors.ComponentNotFound) as raised:
        result.get(timeout=30)
    result.forget()

    assert str(raised.value) == "component MyApp.Nothing not found"
    assert raised.value.object_id == "MyApp.Nothing"
