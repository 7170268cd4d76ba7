"""The Celery layer's rules, read from the package's syntax tree.

- Only the dispatcher (``ctworkflow/tasks/dispatch.py``) builds Celery messages: no other
  module sends a task, builds a signature or a canvas, or revokes.
- Only ``ctworkflow/tasks/celery_internals.py`` touches a private attribute in a module that
  deals with Celery or kombu.
- The services reach the Celery layer through the dispatcher alone: outside ``tasks/`` and the
  worker apps nothing imports a task module, and the dispatcher's own imports never lead back
  to a task module or to the services that the tasks call (no import cycle).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "ctworkflow"
DISPATCHER = "tasks/dispatch.py"
INTERNALS = "tasks/celery_internals.py"

#: Methods that send a message or build one (tasks, signatures, canvases).
SENDING_METHODS = {"apply_async", "delay", "send_task", "signature", "s", "si", "chunks"}
#: Celery's canvas constructors, called by name.
CANVAS = {"chord", "group", "chain", "signature", "chunks", "xmap", "xstarmap"}
#: Task methods that send a message when called on the bound task.
TASK_SENDING = {"retry", "replace", "add_to_chord"}
#: What makes a module Celery-facing: it imports one of these.
CELERY_ROOTS = ("celery", "kombu", "ctworkflow.tasks.app")


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def sends(tree: ast.AST, relative: str) -> list[str]:
    """Every place in ``tree`` that sends or builds a Celery message."""
    found: list[str] = []
    canvas: set[str] = set()  # the local names of celery's canvas constructors
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "celery":
            for alias in node.names:
                if alias.name in CANVAS or alias.name == "Signature":
                    found.append(f"{relative}:{node.lineno} imports celery's {alias.name}")
                    canvas.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in canvas:
            found.append(f"{relative}:{node.lineno} calls {func.id}()")
        if not isinstance(func, ast.Attribute):
            continue
        base = ast.unparse(func.value)
        if func.attr in CANVAS and base in ("celery", "canvas", "celery.canvas"):
            found.append(f"{relative}:{node.lineno} calls {base}.{func.attr}()")
        elif func.attr in SENDING_METHODS and base != "inspect":
            found.append(f"{relative}:{node.lineno} calls .{func.attr}()")
        elif func.attr in TASK_SENDING and base == "self":
            found.append(f"{relative}:{node.lineno} calls self.{func.attr}()")
        elif base.endswith(".control") or base == "control":
            found.append(f"{relative}:{node.lineno} calls control.{func.attr}()")
    return _by_line(found)


def _by_line(found: list[str]) -> list[str]:
    return sorted(found, key=lambda line: int(line.split(":")[1].split()[0]))


def _celery_facing(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        if any(n == root or n.startswith(root + ".") for n in names for root in CELERY_ROOTS):
            return True
    return False


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(tree: ast.AST, relative: str) -> list[str]:
    """Private attributes of other objects, and private modules or names imported, in a
    Celery-facing module."""
    if not _celery_facing(tree):
        return []
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            if ast.unparse(node.value) not in ("self", "cls"):
                found.append(f"{relative}:{node.lineno} reads .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("getattr", "hasattr", "setattr") and len(node.args) > 1:
                name = node.args[1]
                if isinstance(name, ast.Constant) and _private(str(name.value)):
                    found.append(f"{relative}:{node.lineno} {node.func.id}s {name.value!s}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "ctworkflow":
                continue
            if any(_private(part) for part in node.module.split(".")):
                found.append(f"{relative}:{node.lineno} imports {node.module}")
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{relative}:{node.lineno} imports {alias.name}")
    return _by_line(found)


def everywhere_but(allowed: str, walk: Callable[[ast.AST, str], list[str]]) -> list[str]:
    """What ``walk`` finds in every module of the package but ``allowed``."""
    return [
        line for relative, tree in modules() if relative != allowed for line in walk(tree, relative)
    ]


def test_only_the_dispatcher_builds_celery_messages() -> None:
    assert everywhere_but(DISPATCHER, sends) == []


def test_the_walk_finds_each_way_of_sending() -> None:
    source = """
from celery import chord, group as fan, Signature
import celery
import inspect

def sneaky(app, task, header, callback):
    task.apply_async(args=(1,))
    task.delay(1)
    app.send_task("ctworkflow.context.finalize")
    app.signature("ctworkflow.context.validate")
    task.s(1)
    task.si(1)
    chord(header)(callback)
    fan(header)
    app.control.revoke(["id"])
    celery.chain(header)
    inspect.signature(task.run)
    signature(b"not celery's")

class Step:
    def run(self):
        return self.replace(None)
"""
    assert sends(ast.parse(source), "elsewhere.py") == [
        "elsewhere.py:2 imports celery's chord",
        "elsewhere.py:2 imports celery's group",
        "elsewhere.py:2 imports celery's Signature",
        "elsewhere.py:7 calls .apply_async()",
        "elsewhere.py:8 calls .delay()",
        "elsewhere.py:9 calls .send_task()",
        "elsewhere.py:10 calls .signature()",
        "elsewhere.py:11 calls .s()",
        "elsewhere.py:12 calls .si()",
        "elsewhere.py:13 calls chord()",
        "elsewhere.py:14 calls fan()",
        "elsewhere.py:15 calls control.revoke()",
        "elsewhere.py:16 calls celery.chain()",
        "elsewhere.py:22 calls self.replace()",
    ]


def test_only_celery_internals_touches_private_attributes_of_celery() -> None:
    assert everywhere_but(INTERNALS, private_uses) == []


def test_the_walk_finds_each_kind_of_private_use() -> None:
    source = """
from celery._state import task_join_will_block
from celery.result import _set_task_join_will_block
from ctworkflow.tasks.app import app

def sneaky(self):
    pending = app.backend._pending_results
    getattr(app.backend, "_pending_results", None)
    self._mine = 1
    return app.__class__
"""
    assert private_uses(ast.parse(source), "elsewhere.py") == [
        "elsewhere.py:2 imports celery._state",
        "elsewhere.py:3 imports _set_task_join_will_block",
        "elsewhere.py:7 reads ._pending_results",
        "elsewhere.py:8 getattrs _pending_results",
    ]
    assert private_uses(ast.parse("def f(x):\n    return x._inner\n"), "ours.py") == []


# -- imports ----------------------------------------------------------------------------


def _module_name(relative: str) -> str:
    parts = ["ctworkflow", *relative.removesuffix(".py").split("/")]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Each module's imports of the package, at any depth of the module (function-level too)."""
    trees = {_module_name(relative): tree for relative, tree in modules()}

    def known(name: str) -> str | None:
        while name and name not in trees:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, tree in trees.items():
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                if target.split(".")[0] == "ctworkflow" and (module := known(target)):
                    found.add(module)
        graph[name] = found - {name}
    return graph


def task_modules() -> set[str]:
    """The modules that define Celery tasks (``@app.task``)."""
    found = set()
    for relative, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and any(
                ast.unparse(d).startswith("app.task") for d in node.decorator_list
            ):
                found.add(_module_name(relative))
    return found


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for found in graph.get(todo.pop(), set()) - seen:
            seen.add(found)
            todo.append(found)
    return seen


def test_only_the_worker_apps_import_the_task_modules() -> None:
    graph, tasks = import_graph(), task_modules()
    assert "ctworkflow.tasks.context" in tasks and "ctworkflow.tasks.dispatch" not in tasks
    outside = {
        f"{name} imports {target}"
        for name, targets in graph.items()
        if not name.startswith(("ctworkflow.tasks", "ctworkflow.workers"))
        for target in targets & tasks
    }
    assert outside == set()


def test_the_dispatcher_leads_back_to_no_task_and_no_service() -> None:
    graph, tasks = import_graph(), task_modules()
    # What the task modules call (the services, the workflow) must not need the tasks again.
    called = set().union(*(graph[t] for t in tasks)) - {
        m for m in graph if m.startswith("ctworkflow.tasks")
    }
    for module in ("ctworkflow.tasks.dispatch", "ctworkflow.tasks.app"):
        back = reachable(graph, module) & tasks
        assert back == set(), f"{module} imports task modules: {sorted(back)}"
    for module in sorted(called):
        back = reachable(graph, module) & tasks
        assert back == set(), f"{module} (called by a task) imports {sorted(back)}"
