"""The AST mutator: each operator's mutants, what it leaves alone, reproducible sampling."""

from __future__ import annotations

import ast

import pytest

from ctworkflow.domain import mutation

SOURCE = '''"""A module: its docstring is no fault to inject."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    LIMIT = 5


def grade(score: int, names: "list[str]" = ()) -> str:
    """Docstring of grade."""
    if score >= 90 and names:
        return "top"
    total = score * 2
    total += 1
    log(total)
    return f"score {score}" if not names else None


if __name__ == "__main__":
    print(grade(1))
'''


def changes(source: str) -> set[tuple[str, str, str]]:
    return {(m.operator, m.original, m.mutated) for m in mutation.mutants(source)}


def test_each_operator_makes_its_mutants() -> None:
    found = changes(SOURCE)

    assert ("compare", "score >= 90", "(score > 90)") in found
    assert ("arithmetic", "score * 2", "(score / 2)") in found
    assert ("arithmetic", "total += 1", "total -= 1") in found
    assert ("boolean", "score >= 90 and names", "(score >= 90 or names)") in found
    assert ("boolean", "score >= 90 and names", "not (score >= 90 and names)") in found
    assert ("boolean", "not names", "(names)") in found
    assert ("constant", "90", "91") in found
    assert ("constant", "2", "3") in found
    assert ("constant", "1", "0") in found
    assert ("constant", '"top"', '""') in found
    assert ("return", 'return "top"', "return None") in found
    assert ("call", "log(total)", "pass") in found


def test_comparisons_flip_each_way() -> None:
    flips = {
        "a < b": "(a <= b)",
        "a <= b": "(a < b)",
        "a > b": "(a >= b)",
        "a == b": "(a != b)",
        "a != b": "(a == b)",
        "a is b": "(a is not b)",
        "a is not b": "(a is b)",
        "a in b": "(a not in b)",
        "a not in b": "(a in b)",
    }
    for original, flipped in flips.items():
        assert ("compare", original, flipped) in changes(f"x = {original}\n")


def test_constants_zero_one_booleans_and_empty_strings() -> None:
    assert ("constant", "0", "1") in changes("x = 0\n")
    assert ("constant", "True", "False") in changes("x = True\n")
    assert ("constant", "False", "True") in changes("x = False\n")
    assert ("constant", "''", '"mutated"') in changes("x = ''\n")
    assert ("constant", "1.5", "2.5") in changes("x = 1.5\n")


def test_docstrings_annotations_fstrings_and_guarded_blocks_are_left_alone() -> None:
    lines = {m.line for m in mutation.mutants(SOURCE)}
    originals = {m.original for m in mutation.mutants(SOURCE)}

    assert 1 not in lines and 10 not in lines  # docstrings
    assert 6 not in lines  # if TYPE_CHECKING:
    assert not any(line >= 19 for line in lines)  # if __name__ == "__main__":
    assert '"list[str]"' not in originals  # an annotation
    assert "score " not in originals  # the text of an f-string
    assert "return None" not in {m.original for m in mutation.mutants(SOURCE)}


def test_every_mutant_is_valid_python_differing_only_where_it_says() -> None:
    for mutant in mutation.mutants(SOURCE):
        changed = mutation.apply(SOURCE, mutant)
        ast.parse(changed)
        assert changed != SOURCE
        lines, changed_lines = SOURCE.splitlines(), changed.splitlines()
        untouched = [
            n for n in range(len(lines)) if not mutant.line - 1 <= n <= mutant.end_line - 1
        ]
        assert all(lines[n] == changed_lines[n] for n in untouched if n < mutant.line - 1)


def test_a_mutant_keeps_non_ascii_text_around_it_intact() -> None:
    source = 'label = "é" + name\nlimit = 3\n'
    (swap,) = [m for m in mutation.mutants(source) if m.operator == "arithmetic"]

    assert mutation.apply(source, swap) == "label = ('é' - name)\nlimit = 3\n"


def test_a_mutant_refuses_a_source_it_was_not_made_from() -> None:
    (mutant,) = [m for m in mutation.mutants("x = a < b\n") if m.operator == "compare"]

    with pytest.raises(ValueError, match="does not match"):
        mutation.apply("x = a > b\n", mutant)


def test_sampling_is_reproducible_bounded_and_in_text_order() -> None:
    found = mutation.mutants(SOURCE)
    assert len(found) > 8

    first = mutation.sample(found, 5, "pkg.grades")
    again = mutation.sample(found, 5, "pkg.grades")
    other = mutation.sample(found, 5, "pkg.other")

    assert first == again
    assert len(first) == 5 and first != other
    assert first == sorted(first, key=found.index)
    assert mutation.sample(found, 0, "pkg.grades") == []
    assert mutation.sample(found, 1000, "pkg.grades") == found


def test_a_module_that_does_not_parse_raises_a_syntax_error() -> None:
    with pytest.raises(SyntaxError):
        mutation.mutants("def broken(:\n")


def test_a_survivor_is_described_in_one_line() -> None:
    (mutant,) = [m for m in mutation.mutants("x = a < b\n") if m.operator == "compare"]

    assert mutant.describe() == "line 1: a < b → (a <= b)"
    assert mutant.to_json() == {
        "line": 1,
        "operator": "compare",
        "original": "a < b",
        "mutated": "(a <= b)",
    }
