"""The real worker app, plus two fault-test hooks: every task message is published twice,
and every task execution is logged (``FAULTS_LOG_DIR``) so the test can count duplicates.

    celery -A tests.faults.worker_app worker -Q ctw.orchestration,ctw.components,ctw.verification
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from celery.signals import before_task_publish, task_prerun

from ctworkflow.workers.orchestration import app

LOG_DIR = Path(os.environ["FAULTS_LOG_DIR"])


@before_task_publish.connect(weak=False)
def _publish_twice(
    body: Any,
    exchange: str,
    routing_key: str,
    headers: dict[str, Any],
    properties: dict[str, Any],
    **_: Any,
) -> None:
    """Send an exact copy of the message (same task id) next to the original."""
    with app.producer_or_acquire() as producer:
        producer.publish(
            body,
            exchange=exchange,
            routing_key=routing_key,
            headers=dict(headers),
            serializer="json",
            retry=True,
            **{k: v for k, v in properties.items() if k in ("correlation_id", "reply_to")},
        )


@task_prerun.connect(weak=False)
def _log_run(task_id: str, task: Any, **_: Any) -> None:
    line = json.dumps({"name": task.name, "id": task_id}) + "\n"
    with (LOG_DIR / f"runs-{os.getpid()}.jsonl").open("a") as log:
        log.write(line)


__all__ = ["app"]
