"""Mutants of a Python module: small, plausible faults its tests should notice.

Pure. :func:`mutants` parses a module and lists every place one operator applies; each
:class:`Mutant` is one change to one node, spliced into the original text (so comments,
layout and line numbers of the rest stay as they were). :func:`sample` picks a reproducible
subset: the same source and seed always give the same mutants, so a component's base and its
changed tests are judged against the same faults.

Operators:

- ``compare``: ``<`` ↔ ``<=``, ``>`` ↔ ``>=``, ``==`` ↔ ``!=``, ``is`` ↔ ``is not``,
  ``in`` ↔ ``not in``;
- ``arithmetic``: ``+`` ↔ ``-``, ``*`` ↔ ``/``, ``//`` → ``/``, ``%`` → ``*``, ``**`` → ``*``
  (in expressions and augmented assignments);
- ``boolean``: ``and`` ↔ ``or``, ``not x`` → ``x``, an ``if``/``while`` condition negated;
- ``constant``: ``0`` ↔ ``1`` (other numbers + 1), ``True`` ↔ ``False``, a string → ``""``
  (an empty one → ``"mutated"``);
- ``return``: ``return value`` → ``return None``;
- ``call``: a call standing alone as a statement → ``pass``.

Docstrings, annotations, f-strings and ``if TYPE_CHECKING:`` / ``if __name__ == "__main__":``
blocks are left alone: a change there is no fault a test can be asked to notice.
"""

from __future__ import annotations

import ast
import hashlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_COMPARE_FLIPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_ARITHMETIC_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Mult,
    ast.Pow: ast.Mult,
}
_AUG_SYMBOLS: dict[type[ast.operator], str] = {
    ast.Add: "+=",
    ast.Sub: "-=",
    ast.Mult: "*=",
    ast.Div: "/=",
    ast.FloorDiv: "//=",
    ast.Mod: "%=",
    ast.Pow: "**=",
}
OPERATORS = ("compare", "arithmetic", "boolean", "constant", "return", "call")


@dataclass(frozen=True, slots=True, kw_only=True)
class Mutant:
    """One change to one node of a module."""

    #: Which operator made it (one of :data:`OPERATORS`).
    operator: str
    #: Where the changed text starts and ends (1-based lines, character columns).
    line: int
    column: int
    end_line: int
    end_column: int
    #: The text it replaces, and the text put there instead.
    original: str
    mutated: str

    def describe(self) -> str:
        """One line for people: where, and what became what."""
        return f"line {self.line}: {_one_line(self.original)} → {_one_line(self.mutated)}"

    def to_json(self) -> dict[str, object]:
        """The mutant as a JSON document (what a report keeps of a survivor)."""
        return {
            "line": self.line,
            "operator": self.operator,
            "original": _bounded(self.original),
            "mutated": _bounded(self.mutated),
        }


def mutants(source: str) -> list[Mutant]:
    """Every mutant of ``source``, in the order of the text.

    Raises:
        SyntaxError: the source does not parse.
    """
    tree = ast.parse(source)
    lines = _lines(source)
    found = [m for node, kind, text in _points(tree) if (m := _mutant(lines, node, kind, text))]
    unique = {(m.line, m.column, m.end_line, m.end_column, m.mutated): m for m in found}
    return sorted(unique.values(), key=lambda m: (m.line, m.column, m.operator, m.mutated))


def sample(found: Sequence[Mutant], cap: int, seed: str) -> list[Mutant]:
    """At most ``cap`` of ``found``, chosen reproducibly from ``seed``, in text order."""
    if cap <= 0:
        return []
    if len(found) <= cap:
        return list(found)
    rng = random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))
    chosen = rng.sample(range(len(found)), cap)
    return [found[i] for i in sorted(chosen)]


def apply(source: str, mutant: Mutant) -> str:
    """``source`` with ``mutant``'s change made."""
    lines = _lines(source)
    start = _offset(lines, mutant.line, mutant.column)
    end = _offset(lines, mutant.end_line, mutant.end_column)
    if source[start:end] != mutant.original:
        raise ValueError(f"the mutant of line {mutant.line} does not match this source")
    return source[:start] + mutant.mutated + source[end:]


def _points(tree: ast.AST) -> Iterator[tuple[ast.AST, str, str]]:
    """(node, operator, replacement text) for each change; the text replaces the node's."""
    for node in _visible(tree):
        yield from _expression_points(node)
        yield from _statement_points(node)


def _expression_points(node: ast.AST) -> Iterator[tuple[ast.AST, str, str]]:
    if isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            flipped = _COMPARE_FLIPS.get(type(op))
            if flipped is not None:
                ops = [*node.ops[:index], flipped(), *node.ops[index + 1 :]]
                changed = ast.Compare(left=node.left, ops=ops, comparators=node.comparators)
                yield node, "compare", f"({ast.unparse(changed)})"
    elif isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC_SWAPS:
        swapped = ast.BinOp(left=node.left, op=_ARITHMETIC_SWAPS[type(node.op)](), right=node.right)
        yield node, "arithmetic", f"({ast.unparse(swapped)})"
    elif isinstance(node, ast.BoolOp):
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield node, "boolean", f"({ast.unparse(ast.BoolOp(op=other, values=node.values))})"
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield node, "boolean", f"({ast.unparse(node.operand)})"
    elif isinstance(node, ast.Constant):
        replacement = _constant(node.value)
        if replacement is not None:
            yield node, "constant", replacement


def _statement_points(node: ast.AST) -> Iterator[tuple[ast.AST, str, str]]:
    if isinstance(node, (ast.If, ast.While)):
        yield node.test, "boolean", "not (" + ast.unparse(node.test) + ")"
    elif isinstance(node, ast.Return) and node.value is not None:
        if not (isinstance(node.value, ast.Constant) and node.value.value is None):
            yield node, "return", "return None"
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        yield node, "call", "pass"
    elif isinstance(node, ast.AugAssign) and type(node.op) in _ARITHMETIC_SWAPS:
        swapped = ast.AugAssign(
            target=node.target, op=_ARITHMETIC_SWAPS[type(node.op)](), value=node.value
        )
        yield node, "arithmetic", ast.unparse(swapped)


def _constant(value: object) -> str | None:
    if isinstance(value, bool):
        return repr(not value)
    if isinstance(value, int):
        return "1" if value == 0 else "0" if value == 1 else repr(value + 1)
    if isinstance(value, float):
        return repr(value + 1.0)
    if isinstance(value, str):
        return '""' if value else '"mutated"'
    return None


def _visible(tree: ast.AST) -> Iterator[ast.AST]:
    """The nodes a mutant may change: not docstrings, annotations, f-strings, nor blocks
    that only run for type checkers or as a script."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _skipped_block(node):
            continue
        yield node
        hidden = _hidden_children(node)
        stack.extend(
            child for child in reversed(list(ast.iter_child_nodes(node))) if child not in hidden
        )


def _hidden_children(node: ast.AST) -> list[ast.AST]:
    hidden: list[ast.AST] = []
    if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        body = node.body
        first = body[0] if body else None
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            hidden.append(first)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        hidden.extend(n for n in [node.returns] if n is not None)
    if isinstance(node, ast.arg) and node.annotation is not None:
        hidden.append(node.annotation)
    if isinstance(node, ast.AnnAssign):
        hidden.append(node.annotation)
    if isinstance(node, ast.JoinedStr):
        hidden.extend(node.values)
    return hidden


def _skipped_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = ast.unparse(node.test)
    return test in ("TYPE_CHECKING", "typing.TYPE_CHECKING") or (
        test.replace("'", '"') == '__name__ == "__main__"'
    )


def _mutant(lines: list[str], node: ast.AST, operator: str, text: str) -> Mutant | None:
    position = _position(lines, node)
    if position is None:
        return None
    line, column, end_line, end_column = position
    original = _segment(lines, line, column, end_line, end_column)
    if not original or original == text:
        return None
    return Mutant(
        operator=operator,
        line=line,
        column=column,
        end_line=end_line,
        end_column=end_column,
        original=original,
        mutated=text,
    )


def _position(lines: list[str], node: ast.AST) -> tuple[int, int, int, int] | None:
    """The node's place in characters (the parser gives UTF-8 byte columns)."""
    line = getattr(node, "lineno", None)
    end_line = getattr(node, "end_lineno", None)
    column = getattr(node, "col_offset", None)
    end_column = getattr(node, "end_col_offset", None)
    if line is None or end_line is None or column is None or end_column is None:
        return None
    return (
        line,
        _characters(lines[line - 1], column),
        end_line,
        _characters(lines[end_line - 1], end_column),
    )


def _characters(line: str, byte_column: int) -> int:
    return len(line.encode()[:byte_column].decode(errors="replace"))


def _segment(lines: list[str], line: int, column: int, end_line: int, end_column: int) -> str:
    text = "".join(lines)
    return text[_offset(lines, line, column) : _offset(lines, end_line, end_column)]


def _offset(lines: list[str], line: int, column: int) -> int:
    return sum(len(text) for text in lines[: line - 1]) + column


def _lines(source: str) -> list[str]:
    """The source's lines as the parser counts them (ends kept), so offsets add up."""
    parts = source.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else text
    return first if first == text.strip() else first + " …"


def _bounded(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
