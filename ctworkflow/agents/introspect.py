"""Which names an imported Python module really has, asked of the target's own interpreter.

A module's source says what it defines, but not what it ends up with: ``del NAME`` at its end,
definitions under ``if``/``try``, an ``__all__`` built at import time. The scaffold asks the
interpreter of the target's environment (the one the tests will run with) to import the module
in the workspace and report, so a valid module never gets a test that fails. A module that
cannot be imported there is reported as that, with its import error: no test could pass.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ctworkflow import errors
from ctworkflow.agents.base import AgentRequest
from ctworkflow.agents.workspace import ScaffoldError
from ctworkflow.effects import sandbox, shell

IMPORT_TIMEOUT_S: Final = 60.0

#: Run as ``python -c SCRIPT OUT_FILE`` with ``{"module": ..., "candidates": [...]}`` on
#: stdin. It writes its answer to OUT_FILE, never to stdout (which the module may print to),
#: imports only the standard library and runs on any Python 3. Names travel as JSON data.
SCRIPT: Final = """\
import importlib, json, sys, traceback
request = json.load(sys.stdin)
try:
    module = importlib.import_module(request["module"])
except BaseException as error:
    answer = {"error": traceback.format_exception_only(type(error), error)[-1].strip()}
else:
    declared = getattr(module, "__all__", None)
    if not (isinstance(declared, (list, tuple)) and all(isinstance(n, str) for n in declared)):
        declared = None
    present = [name for name in request["candidates"] if hasattr(module, name)]
    answer = {"all": list(declared) if declared is not None else None, "present": present}
with open(sys.argv[1], "w", encoding="utf-8") as handle:
    json.dump(answer, handle)
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModuleNames:
    """What the imported module has: its ``__all__`` (None if it has none) and, of the
    names asked about, the ones it really has."""

    declared: list[str] | None
    present: list[str]


def target_python(request: AgentRequest) -> str:
    """The interpreter of the target's environment: the first ``python`` on the request's
    ``PATH``; without one, the worker's own interpreter."""
    path = (request.env or {}).get("PATH")
    if path:
        for name in ("python", "python3"):
            found = shutil.which(name, path=path)
            if found:
                return found
    return sys.executable


def _environment(request: AgentRequest, python: str) -> tuple[Path, ...]:
    """The target environment's folder, which the sandboxed import must see (it may live
    where a sandbox hides, under ``/tmp``); none for the worker's own interpreter."""
    if request.env is None or python == sys.executable:
        return ()
    virtual_env = request.env.get("VIRTUAL_ENV")
    return (Path(virtual_env) if virtual_env else Path(python).parent.parent,)


def _env(request: AgentRequest) -> dict[str, str]:
    # Like the test runner: the workspace is importable, and no bytecode lands in it.
    extra = dict(request.env or {})
    paths = [str(request.workspace), extra.get("PYTHONPATH", "")]
    extra["PYTHONPATH"] = ":".join(p for p in paths if p)
    extra["PYTHONDONTWRITEBYTECODE"] = "1"
    return shell.base_env(extra)


def module_names(request: AgentRequest, candidates: Sequence[str]) -> ModuleNames:
    """Import ``request.module_name`` in the target's environment and report its names.

    Raises:
        ModuleNotImportable: the import fails there (permanent: no test could pass).
        ScaffoldError: the interpreter could not be run or said nothing.
    """
    python = target_python(request)
    with tempfile.TemporaryDirectory(prefix="ctw-names-") as folder:
        out_file = Path(folder) / "names.json"
        result = shell.run(
            [python, "-c", SCRIPT, str(out_file)],
            cwd=request.workspace,
            timeout_s=IMPORT_TIMEOUT_S,
            env=_env(request),
            input=json.dumps({"module": request.module_name, "candidates": list(candidates)}),
            should_stop=request.should_stop,
            # Importing runs the target's code: contained like a test run.
            policy=sandbox.for_tests(
                request.workspace, scratch=(Path(folder),), readable=_environment(request, python)
            ),
        )
        text = out_file.read_text(encoding="utf-8") if out_file.is_file() else ""
    if not text:
        said = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        if result.timed_out:
            said = f"timed out after {IMPORT_TIMEOUT_S:g} s"
        raise ScaffoldError(f"cannot import {request.module_name} with {python}: {said}")
    answer = json.loads(text)
    if "error" in answer:
        raise errors.ModuleNotImportable(
            f"cannot import {request.module_name} in the target's environment: {answer['error']}"
        )
    declared = answer.get("all")
    return ModuleNames(
        declared=[str(n) for n in declared] if declared is not None else None,
        present=[str(n) for n in answer.get("present", [])],
    )
