"""The incremental shape's hook: a second session on an unchanged context.

Incremental sessions (issue 23, item 4: a component whose source, test file, environment key
and runner are unchanged keeps its verified artifact and runs no agent) do not exist yet, so
this shape measures nothing and says so: :func:`run_incremental` reports it pending and no
figure is made up. Once they exist, fill it in: register the shape's project
(:func:`tests.benchmarks.fixture.register`), run one session (:func:`~tests.benchmarks.
orchestrated.run_orchestrated`), run a second on the unchanged context, and report both
timings, their ratio (target: the second at most 10 % of the first) and how many agent
processes the second ran (target: none).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from celery import Celery

from tests.benchmarks.shapes import Shape

PENDING: Final = "incremental sessions are not built yet (issue 23, item 4)"


def run_incremental(
    client: Celery, database_url: str, shape: Shape, root: Path, timeout_s: float
) -> dict[str, Any]:
    """The second session on an unchanged context against the first: pending for now."""
    return {"shape": shape.to_json(), "pending": PENDING}
