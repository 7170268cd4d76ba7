"""The built-in offline generator: Pynguin writes behaviour tests of a component's module.

Pynguin (package index, pinned) lives in a tool environment of its own
(:mod:`ctworkflow.effects.tool_environments`), never the worker's nor the target's. It runs in
the sandbox, without the network, against the component's module: the checkout's package roots
first on its import path, then its own packages, then the target environment's (so the module's
dependencies import as the target has them, and Pynguin's own as it pins them). It searches for
``pynguin_search_time_s`` seconds (a project setting) with a seed derived from the component,
so a run is reproducible; given the lines the previous round left uncovered
(:attr:`AgentRequest.uncovered`), it aims at those only (``--only-cover-line-ranges``).

Its tests are cleaned (:mod:`ctworkflow.agents.pynguin_output`) and appended to the component's
test file, never touching a test already there; the file is then run once with pytest in the
target's environment (sandboxed) and every new test that did not pass is dropped. Where
Pynguin gives nothing usable (it cannot be installed for this Python, it fails, as with
"Failed to compute stacksize", or none of its tests survive) the component gets the scaffold's
smoke tests instead (:class:`ScaffoldAgent`), and the result says why.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from ctworkflow import errors
from ctworkflow.agents import pynguin_output
from ctworkflow.agents.base import AgentRequest, AgentResult
from ctworkflow.agents.pynguin_runs import (
    passing_tests,
    project_path,
    pynguin_env,
    read_scratch,
    target_root,
)
from ctworkflow.agents.scaffold import ScaffoldAgent
from ctworkflow.agents.workspace import existing_content, read_test_file, write_test_file
from ctworkflow.config import get_settings
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.effects import sandbox, shell
from ctworkflow.effects.tool_environments import ToolEnvironments

#: The release the agent installs (it supports Python 3.10 to 3.15 and pins pytest below 9).
REQUIREMENT: Final = "pynguin==0.48.0"
SEARCH_TIME_SETTING: Final = "pynguin_search_time_s"
DEFAULT_SEARCH_TIME_S: Final = 60
MAX_SEARCH_TIME_S: Final = 3600
#: What a run may take beyond its search: start-up, assertion generation, minimisation.
OVERHEAD_S: Final = 180.0
#: Pynguin's line when it cannot instrument a module's bytecode.
STACKSIZE: Final = "Failed to compute stacksize"


def search_time_setting(settings: Mapping[str, Any]) -> int:
    """The project's ``pynguin_search_time_s`` (default 60), or raise InvalidInput."""
    value = settings.get(SEARCH_TIME_SETTING, DEFAULT_SEARCH_TIME_S)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SEARCH_TIME_S:
        raise errors.InvalidInput(
            f"the setting {SEARCH_TIME_SETTING!r} must be a whole number of seconds from 1 to "
            f"{MAX_SEARCH_TIME_S}, not {value!r}"
        )
    return int(value)


def seed_for(component: str) -> int:
    """The seed of a component's search: the same component, the same seed."""
    return int.from_bytes(hashlib.sha256(component.encode()).digest()[:4], "big")


def line_ranges(uncovered: Sequence[tuple[int, int]]) -> list[str]:
    """``--only-cover-line-ranges``'s values: ``12`` or ``12-15``."""
    return [str(a) if a == b else f"{a}-{b}" for a, b in uncovered]


class PynguinAgent:
    """Write Pynguin's tests of the requested module, or the scaffold's where it has none."""

    name: str = "pynguin"

    def __init__(
        self, *, search_time_s: int = DEFAULT_SEARCH_TIME_S, requirement: str = REQUIREMENT
    ) -> None:
        self.search_time_s = search_time_s
        #: What the tool environment installs (``pynguin==0.48.0``); it names the environment.
        self.requirement = requirement

    def argv(self, request: AgentRequest, tool: Path, output: Path) -> list[str]:
        """Pynguin's command line for the request, its output and report in ``output``."""
        argv = [
            str(tool / "bin" / "pynguin"),
            "--project-path",
            str(request.workspace / project_path(request.source_path, request.module_name)),
            "--module-name",
            request.module_name,
            "--output-path",
            str(output),
            "--report-dir",
            str(output / "report"),
            "--maximum-search-time",
            str(self.search_time_s),
            "--assertion-generation",
            "SIMPLE",
            "--no-xfail",
            "True",
            "--seed",
            str(seed_for(request.component_name)),
            "--no-rich",
        ]
        if request.uncovered:
            argv += ["--only-cover-line-ranges", *line_ranges(request.uncovered)]
        return argv

    def write_tests(self, request: AgentRequest) -> AgentResult:
        """Run Pynguin, merge what it wrote that passes, or fall back to the scaffold."""
        if request.layout is Layout.PHOENIX:
            return _fall_back(request, "Pynguin writes Python tests only", 0.0)
        started = time.monotonic()
        try:
            tool = ToolEnvironments(get_settings()).ensure(
                self.requirement.replace("==", "-"),
                self.requirement,
                should_stop=request.should_stop,
            )
        except errors.EnvironmentUnavailable as error:
            return _fall_back(request, f"Pynguin cannot be installed: {error}", started)
        previous = previous_round(request)
        with tempfile.TemporaryDirectory(prefix="ctw-pynguin-") as scratch:
            output = Path(scratch)
            argv = self.argv(request, tool, output)
            result = shell.run(
                argv,
                cwd=request.workspace,
                timeout_s=min(request.timeout_s, self.search_time_s + OVERHEAD_S),
                env=pynguin_env(request, tool),
                should_stop=request.should_stop,
                policy=sandbox.for_agent(
                    request.workspace,
                    scratch=(output,),
                    readable=(tool, *target_root(request)),
                    network=False,
                ),
            )
            if result.stopped:
                return AgentResult(
                    ok=False, argv=tuple(argv), error="agent stopped: session cancelled"
                )
            written = f"test_{request.module_name.rsplit('.', 1)[-1]}.py"
            failure = _run_failure(result)
            generated = None if failure else read_scratch(output, written)
            if generated is None:
                reason = failure or "Pynguin wrote no test"
                return _give_up(request, reason, started, result, previous)
            return self._merge(request, generated, (argv, result, started), output, previous)

    def _merge(
        self,
        request: AgentRequest,
        generated: str,
        run: tuple[list[str], shell.CommandResult, float],
        scratch: Path,
        previous: str | None,
    ) -> AgentResult:
        argv, result, started = run
        try:
            tests = pynguin_output.clean(generated)
            existing = (
                previous
                if previous is not None
                else existing_content(request, pynguin_output.HEADER)
            )
            named = pynguin_output.renamed(tests, existing or "")
        except (SyntaxError, ValueError) as exc:
            reason = f"its output does not parse ({exc})"
            return _give_up(request, reason, started, result, previous)
        if not named:
            reason = "none of its tests calls the module"
            return _give_up(request, reason, started, result, previous)
        try:
            write_test_file(request, pynguin_output.merge(existing, request.module_name, named))
            passed = passing_tests(request, scratch)
            kept = [test for test in named if test.name in passed]
            if not kept:
                reason = f"none of its {len(named)} tests passed here"
                return _give_up(request, reason, started, result, previous)
            write_test_file(request, pynguin_output.merge(existing, request.module_name, kept))
        except (errors.UnsafeFile, errors.LimitExceeded) as error:
            return AgentResult(ok=False, duration_s=time.monotonic() - started, error=str(error))
        target = (
            f"; aimed at lines {', '.join(line_ranges(request.uncovered))}"
            if (request.uncovered)
            else ""
        )
        return AgentResult(
            ok=True,
            argv=tuple(argv),
            exit_code=result.returncode,
            duration_s=time.monotonic() - started,
            stdout_tail=(
                f"added {len(kept)} Pynguin tests to {request.test_path} "
                f"({len(named) - len(kept)} dropped: they failed when run once){target}"
            ),
            stderr_tail=result.tail("stderr"),
        )


def _run_failure(result: shell.CommandResult) -> str | None:
    """Why Pynguin's run gave nothing to use, or None."""
    output = result.stdout + result.stderr
    if STACKSIZE in output:
        return f"Pynguin stopped: {STACKSIZE}"
    if result.timed_out:
        return f"Pynguin timed out after {result.duration_s:.0f} s"
    if result.exceeded is not None:
        return f"Pynguin printed too much on {result.exceeded}"
    if result.returncode != 0:
        lines = [line.strip() for line in output.splitlines() if "ERROR" in line or "Error" in line]
        said = f": {lines[-1].split('): ', 1)[-1][-200:]}" if lines else ""
        return f"Pynguin exited with status {result.returncode}{said}"
    return None


def previous_round(request: AgentRequest) -> str | None:
    """The test file as this agent's previous round left it, when this round adds to it: it
    aims at the lines that round left uncovered, and the file holds this agent's tests."""
    if not request.uncovered:
        return None
    try:
        text = read_test_file(request)
    except (FileNotFoundError, errors.UnsafeFile, errors.LimitExceeded):
        return None
    marker = pynguin_output.APPENDED_MARKER.format(module_repr=repr(request.module_name))
    return text if text.startswith(pynguin_output.HEADER) or marker in text else None


def _give_up(
    request: AgentRequest,
    reason: str,
    started: float,
    result: shell.CommandResult,
    previous: str | None,
) -> AgentResult:
    """Nothing new from this run: the previous round's tests stay if it adds to them, else
    the scaffold's tests are written."""
    if previous is None:
        return _fall_back(request, reason, started, result)
    try:
        write_test_file(request, previous)
    except (errors.UnsafeFile, errors.LimitExceeded) as error:
        return AgentResult(ok=False, duration_s=time.monotonic() - started, error=str(error))
    lines = ", ".join(line_ranges(request.uncovered))
    return AgentResult(
        ok=True,
        exit_code=result.returncode,
        duration_s=time.monotonic() - started,
        stdout_tail=f"pynguin found no new test for lines {lines}: {reason}; "
        "the previous round's tests stay",
        stderr_tail=result.tail("stderr"),
    )


def _fall_back(
    request: AgentRequest,
    reason: str,
    started: float,
    result: shell.CommandResult | None = None,
) -> AgentResult:
    """The scaffold's result, saying why Pynguin's tests are not there."""
    _forget_own_file(request)
    fallback = ScaffoldAgent().write_tests(request)
    note = f"pynguin produced no usable test: {reason}; fell back to the scaffold"
    return AgentResult(
        ok=fallback.ok,
        argv=fallback.argv,
        exit_code=fallback.exit_code,
        duration_s=(time.monotonic() - started if started else 0.0) + fallback.duration_s,
        stdout_tail=f"{note}\n{fallback.stdout_tail}".strip(),
        stderr_tail=result.tail("stderr") if result is not None else fallback.stderr_tail,
        error=fallback.error,
        permanent=fallback.permanent,
    )


def _forget_own_file(request: AgentRequest) -> None:
    """Remove the file this agent wrote in an earlier round (the scaffold writes anew)."""
    if request.existing is not None:
        return
    try:
        text = read_test_file(request)
    except (FileNotFoundError, errors.UnsafeFile, errors.LimitExceeded):
        return
    if text.startswith(pynguin_output.HEADER):
        (request.workspace / request.test_path).unlink(missing_ok=True)
