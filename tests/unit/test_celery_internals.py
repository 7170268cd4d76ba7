"""The private attributes of Celery that ``ctworkflow/tasks/celery_internals.py`` uses were
checked against one Celery: another one installed fails here, saying what to re-check.

``tests/integration/test_celery_internals.py`` exercises them on a real Redis backend.
"""

from __future__ import annotations

import celery
import pytest

from ctworkflow.tasks import celery_internals


def test_the_installed_celery_is_the_one_checked() -> None:
    assert celery_internals.unchecked_version() is None, celery_internals.unchecked_version()


def test_another_celery_is_named_with_what_to_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(celery, "__version__", "5.8.0")

    said = celery_internals.unchecked_version()

    assert said is not None and said.startswith("celery 5.8.0 is installed")
    assert "ctworkflow/tasks/celery_internals.py" in said
    assert "_pending_results" in said and "CHECKED_CELERY" in said
