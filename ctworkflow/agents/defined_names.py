"""The top-level names a module's source defines, read from its syntax tree (never imported)."""

from __future__ import annotations

import ast
from collections.abc import Iterable


def _assigned(target: ast.expr) -> Iterable[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _assigned(element)


def _blocks(node: ast.stmt) -> Iterable[list[ast.stmt]]:
    """The statement lists a top-level statement may run (if, try, with)."""
    if isinstance(node, ast.If):
        yield node.body
        yield node.orelse
    elif isinstance(node, ast.Try | ast.TryStar):
        yield node.body
        for handler in node.handlers:
            yield handler.body
        yield node.orelse
        yield node.finalbody
    elif isinstance(node, ast.With):
        yield node.body


def defined_in(body: list[ast.stmt]) -> list[str]:
    names: list[str] = []
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.extend(_assigned(target))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
        for block in _blocks(node):
            names.extend(defined_in(block))
    return names


def defined_names(source: str | bytes, filename: str) -> list[str]:
    """The sorted public top-level names a module's source defines (functions, classes,
    assignments, also under a top-level ``if``, ``try`` or ``with``); SyntaxError if it does
    not parse."""
    tree = ast.parse(source, filename=filename)
    return sorted({name for name in defined_in(tree.body) if not name.startswith("_")})
