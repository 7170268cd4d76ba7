"""A session's state patched in place: one SQL expression per dialect.

A writer names only the keys it sets (:class:`~ctworkflow.domain.session_state.StatePatch`);
the ``UPDATE`` computes the new document from the one stored, so two writers that each read
the session earlier cannot drop each other's keys. A key the patch writes is replaced whole
(nested documents included), a key it clears is removed, the others stay:

- PostgreSQL: ``(state - :removed) || :assigned`` on JSONB;
- SQLite: ``json_set(json_remove(state, '$.removed', …), '$.key', json(:value), …)``. Not
  ``json_patch``: RFC 7396 would merge a nested document key by key and drop its null
  values (a layout profile holds some), where the stored document must be the one written.
"""

from __future__ import annotations

import json
from itertools import chain
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ctworkflow.domain.session_state import StatePatch

#: What the expression's bound values are named after.
_PREFIX = "state_patch_"


def merged(
    state: sa.ColumnElement[Any], dialect: str, patch: StatePatch
) -> tuple[sa.ColumnElement[Any], dict[str, Any]]:
    """``state`` with ``patch`` merged in, and the values its parameters take.

    Two patches that name the same keys give the same expression, so one statement can run
    with the values of many (an executemany).
    """
    assigned, removed = patch.assignments(), sorted(patch.removals())
    if dialect == "postgresql":
        return _postgresql(state), {
            f"{_PREFIX}removed": removed,
            f"{_PREFIX}assigned": assigned,
        }
    expression = state
    if removed:
        expression = sa.func.json_remove(expression, *(sa.literal(f"$.{k}") for k in removed))
    if assigned:
        pairs = (
            (sa.literal(f"$.{key}"), sa.func.json(sa.bindparam(f"{_PREFIX}{key}", type_=sa.Text)))
            for key in sorted(assigned)
        )
        expression = sa.func.json_set(expression, *chain.from_iterable(pairs))
    return expression, {f"{_PREFIX}{key}": json.dumps(value) for key, value in assigned.items()}


def _postgresql(state: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    removed = sa.bindparam(f"{_PREFIX}removed", type_=postgresql.ARRAY(sa.Text))
    assigned = sa.bindparam(f"{_PREFIX}assigned", type_=postgresql.JSONB)
    kept = state.op("-", return_type=postgresql.JSONB)(removed).self_group()
    return kept.op("||", return_type=postgresql.JSONB)(assigned)
