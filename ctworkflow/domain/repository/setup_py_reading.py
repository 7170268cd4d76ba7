"""``setup.py``, read and never run: the literal keyword arguments of its ``setup()`` call.

Only values written as literals count (``packages=["a", "a.b"]``, ``package_dir={"": "src"}``,
``use_scm_version={"write_to": ...}``), and a literal ``find_packages(...)`` call; anything
computed is left out, and a ``setup.py`` this interpreter cannot parse reads as empty, so the
build's automatic discovery decides.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class FindCall:
    """A literal ``find_packages(...)`` call in ``setup.py``."""

    where: str = "."
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


def setup_keywords(text: str | None) -> dict[str, Any]:
    """The literal keyword arguments of the ``setup(...)`` call in setup.py ({} if none)."""
    if not text:
        return {}
    try:
        tree = ast.parse(text, filename="setup.py")
    except (SyntaxError, ValueError):
        return {}  # code this interpreter cannot parse: fall back to automatic discovery
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called(node) == "setup":
            found: dict[str, Any] = {}
            for keyword in node.keywords:
                if keyword.arg is None:
                    continue
                value = _literal(keyword.value)
                if value is not None:
                    found[keyword.arg] = value
            return found
    return {}


def _called(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _literal(node: ast.expr) -> Any:
    """A literal value, a ``find_packages()`` call, or None for anything computed."""
    if isinstance(node, ast.Call) and _called(node) in ("find_packages", "find_namespace_packages"):
        args = {k.arg: _literal(k.value) for k in node.keywords if k.arg}
        positional = [_literal(a) for a in node.args]
        where = args.get("where", positional[0] if positional else ".")
        exclude = args.get("exclude", positional[1] if len(positional) > 1 else ())
        return FindCall(
            where=where if isinstance(where, str) else ".",
            include=_literal_strings(args.get("include")),
            exclude=_literal_strings(exclude),
        )
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _literal_strings(value: Any) -> tuple[str, ...]:
    """A literal list or tuple of strings; () for anything else."""
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return ()
