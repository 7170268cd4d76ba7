"""No code path changes a session's status outside the one compare-and-set.

The package's syntax tree is walked for writes of a ``status``: an UPDATE of the sessions
table that sets it, an attribute assignment ``<row>.status = ...``, or a ``status=`` handed to
``update_session``. Only ``SessionStore.set_status`` may set it (creating a row with its first
status is not a change).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "ctworkflow"
ALLOWED_FUNCTION = ("persistence/session_store/status.py", "set_status")


def _names_status(node: ast.AST) -> bool:
    """A ``status=`` keyword, or a ``{"status": ...}`` literal, directly in ``node``."""
    if isinstance(node, ast.Call):
        if any(k.arg == "status" for k in node.keywords):
            return True
        return any(_names_status(arg) for arg in node.args)
    if isinstance(node, ast.Dict):
        return any(isinstance(k, ast.Constant) and k.value == "status" for k in node.keys)
    return False


def _updates_sessions(call: ast.Call) -> bool:
    """``<...>.values(...)`` chained on an ``update(SessionRow)``."""
    for inner in ast.walk(call.func):
        if (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Attribute | ast.Name)
            and getattr(inner.func, "attr", getattr(inner.func, "id", "")) == "update"
            and inner.args
            and isinstance(inner.args[0], ast.Name)
            and inner.args[0].id == "SessionRow"
        ):
            return True
    return False


def status_writes(tree: ast.AST, relative: str) -> list[str]:
    found: list[str] = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if (relative, function.name) == ALLOWED_FUNCTION:
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets):
                    found.append(f"{relative}:{node.lineno} assigns .status")
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            if node.func.attr == "values" and _updates_sessions(node) and _names_status(node):
                found.append(f"{relative}:{node.lineno} updates sessions.status")
            if node.func.attr == "update_session" and _names_status(node):
                found.append(f"{relative}:{node.lineno} passes status= to update_session")
    return sorted(found, key=lambda line: int(line.split(":")[1].split()[0]))


def test_only_set_status_writes_a_session_status() -> None:
    found: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        found += status_writes(ast.parse(path.read_text(encoding="utf-8")), relative)
    assert found == []


def test_the_walk_finds_each_kind_of_raw_status_write() -> None:
    source = """
def sneaky(db, row, store):
    db.execute(sa.update(SessionRow).where(SessionRow.id == 1).values(status="complete"))
    db.execute(sa.update(SessionRow).values({"status": "failed"}))
    row.status = "active"
    store.update_session(scope, session_id, status="cancelled")
    db.execute(sa.update(InteractionRow).values(status="ok"))
"""
    found = status_writes(ast.parse(source), "elsewhere.py")
    assert found == [
        "elsewhere.py:3 updates sessions.status",
        "elsewhere.py:4 updates sessions.status",
        "elsewhere.py:5 assigns .status",
        "elsewhere.py:6 passes status= to update_session",
    ]
