"""The test functions of a Python test file, found by its syntax tree, and their removal.

Pure. A test case id is what pytest's node id reads after the file's path
(``TestUser::test_name[param]``); the function that defines it is the id without its
parameters (``TestUser::test_name``). Removing a function takes out exactly its lines (its
decorators, its ``def`` and its body) and leaves every other byte of the file as it was.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

__all__ = ["Definition", "definitions", "function_of", "remove"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Definition:
    """One function or class of a test file, by its lines."""

    #: ``Class::function`` (classes nested as pytest names them).
    name: str
    #: First line (its first decorator's) and last line, 1-based, inclusive.
    start: int
    end: int
    #: The text of those lines, to tell a changed test from the one at the base.
    text: str


def function_of(case_id: str) -> str:
    """The function a case id names: the id without its parameters."""
    bracket = case_id.find("[")
    return case_id if bracket < 0 else case_id[:bracket]


def _walk(
    body: Sequence[ast.stmt], prefix: str
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{node.name}"
            yield name, node
            if isinstance(node, ast.ClassDef):
                yield from _walk(node.body, f"{name}::")


def _start(node: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def _nodes(
    tree: ast.Module,
) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    # A name defined twice keeps its last definition: the one Python (and pytest) sees.
    return dict(_walk(tree.body, ""))


def definitions(source: str) -> dict[str, Definition]:
    """Every function and class of ``source`` by its ``Class::function`` name.

    Raises:
        SyntaxError: the source does not parse.
    """
    lines = source.splitlines(keepends=True)
    found: dict[str, Definition] = {}
    for name, node in _nodes(ast.parse(source)).items():
        start, end = _start(node), node.end_lineno or node.lineno
        found[name] = Definition(
            name=name, start=start, end=end, text="".join(lines[start - 1 : end])
        )
    return found


def remove(source: str, functions: Collection[str]) -> str:
    """``source`` without the test functions named (``Class::function``); a class left with
    nothing else in its body goes with them. Every other byte stays as it was.

    Raises:
        ValueError: a function is not defined in the file, or the file does not parse
            without them.
        SyntaxError: the file does not parse.
    """
    tree = ast.parse(source)
    nodes = _nodes(tree)
    lines = source.splitlines(keepends=True)
    doomed: list[ast.stmt] = []
    for name in dict.fromkeys(functions):
        function = nodes.get(name)
        if function is None or isinstance(function, ast.ClassDef):
            raise ValueError(f"{name} is not a function defined in the file")
        doomed.append(function)
    doomed_ids = {id(node) for node in doomed}
    for _, node in sorted(nodes.items(), key=lambda item: -len(item[0])):  # innermost first
        if isinstance(node, ast.ClassDef) and all(id(member) in doomed_ids for member in node.body):
            doomed.append(node)
            doomed_ids.add(id(node))
    gone: set[int] = set()
    for statement in doomed:
        gone.update(range(_start(statement), (statement.end_lineno or statement.lineno) + 1))
    kept = "".join(line for number, line in enumerate(lines, 1) if number not in gone)
    try:
        ast.parse(kept)
    except SyntaxError as error:
        raise ValueError(f"the file does not parse without them: {error.msg}") from None
    return kept
