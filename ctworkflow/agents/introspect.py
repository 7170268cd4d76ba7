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

#: Run as ``python -c SCRIPT OUT_FILE`` with ``{"module": ..., "candidates": [...],
#: "doctests": bool}`` on stdin. It writes its answer to OUT_FILE, never to stdout (which the
#: module may print to), imports only the standard library and runs on any Python 3. Names
#: travel as JSON data. The names are written before the doctests run, so a doctest that hangs
#: past the timeout still leaves them.
SCRIPT: Final = """\
import contextlib, doctest, importlib, io, json, sys, traceback
request = json.load(sys.stdin)
parts = request["module"].split(".")
def answer_with(answer):
    with open(sys.argv[1], "w", encoding="utf-8") as handle:
        json.dump(answer, handle)
try:
    # Through its package, as the project's own tests import it: every parent first.
    for end in range(1, len(parts) + 1):
        module = importlib.import_module(".".join(parts[:end]))
except BaseException as error:
    answer_with({"error": traceback.format_exception_only(type(error), error)[-1].strip()})
    sys.exit(0)
declared = getattr(module, "__all__", None)
if not (isinstance(declared, (list, tuple)) and all(isinstance(n, str) for n in declared)):
    declared = None
present = [name for name in request["candidates"] if hasattr(module, name)]
answer = {"all": list(declared) if declared is not None else None, "present": present}
answer_with(answer)
if request.get("doctests"):
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            results = doctest.testmod(module)
        found = {"attempted": results.attempted, "failed": results.failed}
    except BaseException as error:
        said = traceback.format_exception_only(type(error), error)[-1].strip()
        found = {"attempted": 0, "failed": 0, "error": said}
    found["output"] = output.getvalue()[-4000:]
    answer["doctests"] = found
    answer_with(answer)
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Doctests:
    """How the module's doctests did at the base: ``passed`` tells whether a test that
    asserts they pass holds there; ``reason`` says why not."""

    attempted: int
    failed: int
    reason: str | None = None

    @property
    def passed(self) -> bool:
        """Whether they all passed (also when there are none)."""
        return self.reason is None and self.failed == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ModuleNames:
    """What the imported module has: its ``__all__`` (None if it has none), of the names
    asked about the ones it really has, and how its doctests did (None: not asked)."""

    declared: list[str] | None
    present: list[str]
    doctests: Doctests | None = None


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


def module_names(
    request: AgentRequest, candidates: Sequence[str], *, doctests: bool = False
) -> ModuleNames:
    """Import ``request.module_name`` in the target's environment and report its names (and,
    with ``doctests``, run its doctests there, as the scaffold's doctest test would).

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
            input=json.dumps(
                {
                    "module": request.module_name,
                    "candidates": list(candidates),
                    "doctests": doctests,
                }
            ),
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
        doctests=_doctests(answer.get("doctests"), timed_out=result.timed_out)
        if doctests
        else None,
    )


def _doctests(found: object, *, timed_out: bool) -> Doctests:
    if not isinstance(found, dict):
        said = f"timed out after {IMPORT_TIMEOUT_S:g} s" if timed_out else "ended without a word"
        return Doctests(attempted=0, failed=0, reason=f"the doctest run {said}")
    attempted, failed = int(found.get("attempted", 0)), int(found.get("failed", 0))
    if found.get("error"):
        return Doctests(
            attempted=attempted, failed=failed, reason=f"doctest raised {found['error']}"
        )
    if failed:
        lines = str(found.get("output", "")).splitlines()
        first = next((line for line in lines if line.strip("* ")), "")
        reason = f"{failed} of {attempted} doctests fail at the base"
        return Doctests(
            attempted=attempted, failed=failed, reason=f"{reason} ({first})" if first else reason
        )
    return Doctests(attempted=attempted, failed=0)
