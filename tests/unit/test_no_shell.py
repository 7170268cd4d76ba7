"""No shell string anywhere in the product or its benchmark: every subprocess is an argv list."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    [
        *(ROOT / "ctworkflow").rglob("*.py"),
        *(ROOT / "tests" / "benchmarks").rglob("*.py"),
    ]
)
SHELL_FUNCTIONS = {"system", "popen", "getoutput", "getstatusoutput"}


def shell_uses(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg == "shell" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is False
            ):
                found.append(f"line {node.lineno}: shell={ast.unparse(keyword.value)}")
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr in SHELL_FUNCTIONS:
            owner = ast.unparse(function.value)
            if owner in ("os", "subprocess", "commands"):
                found.append(f"line {node.lineno}: {owner}.{function.attr}()")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_runs_a_shell(path: Path) -> None:
    assert shell_uses(ast.parse(path.read_text(), filename=str(path))) == []


def test_the_check_sees_a_shell_when_there_is_one() -> None:
    sample = "import os, subprocess\nsubprocess.run('ls', shell=True)\nos.system('ls')\n"
    assert shell_uses(ast.parse(sample)) == ["line 2: shell=True", "line 3: os.system()"]
    assert len(SOURCES) > 40
