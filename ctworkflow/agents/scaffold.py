"""A deterministic agent that writes real smoke tests of a module, without any model.

Python: the module imports (through its package, every parent first, as the project's own
tests import it), its public names exist, its doctests pass. Each asserts only what holds at the
base: the doctests are run in the target's environment first, and a module whose doctests do not
all pass there gets no doctest test (the file says why). The public names are
the ones the module really has once imported in the target's environment
(:mod:`ctworkflow.agents.introspect`): its ``__all__`` as the import leaves it, else the
top-level names its source defines (under a top-level ``if``, ``try`` or ``with`` too) that
survive the import (a ``del NAME`` drops one). Elixir: see
:mod:`ctworkflow.agents.elixir_scaffold`.

A component that already has a test file keeps all of it: the scaffold appends its tests to the
file as it was at the base, under names no existing test uses, and leaves a file that already
holds its tests of the module unchanged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ctworkflow import errors
from ctworkflow.agents import introspect
from ctworkflow.agents.base import AgentRequest, AgentResult
from ctworkflow.agents.defined_names import defined_names
from ctworkflow.agents.elixir_scaffold import elixir_tests
from ctworkflow.agents.scaffold_text import HEADER, append_tests, render_tests
from ctworkflow.agents.workspace import (
    SOURCE_MAX_BYTES,
    ScaffoldError,
    existing_content,
    write_test_file,
)
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.effects import nofollow


def _source(request: AgentRequest) -> bytes:
    try:
        return nofollow.read_bytes(
            request.workspace, request.source_path, max_bytes=SOURCE_MAX_BYTES, what="source file"
        )
    except FileNotFoundError:
        raise errors.SourceMissing(f"source file {request.source_path} does not exist") from None


def real_public_names(request: AgentRequest) -> list[str]:
    """The public names the imported module really has (see the module's docstring).

    Raises:
        SourceMissing, SourceUnparsable, ModuleNotImportable: permanent; ScaffoldError.
    """
    return module_facts(request, doctests=False).names


@dataclass(frozen=True, slots=True, kw_only=True)
class ModuleFacts:
    """What holds of a module at the base: its public names, and why its doctests do not
    pass there (None: they pass, or it has none)."""

    names: list[str]
    doctests_fail: str | None


def module_facts(request: AgentRequest, *, doctests: bool = True) -> ModuleFacts:
    """The module's public names and, with ``doctests``, whether its doctests pass, both
    asked of the target's environment at the base.

    Raises:
        SourceMissing, SourceUnparsable, ModuleNotImportable: permanent; ScaffoldError.
    """
    try:
        candidates = defined_names(_source(request), request.source_path)
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno is not None else ""
        reason = (exc.msg or "invalid syntax").splitlines()[0]
        raise errors.SourceUnparsable(
            f"cannot parse {request.source_path}: {reason}{where}"
        ) from exc
    except ValueError as exc:
        reason = (str(exc) or type(exc).__name__).splitlines()[0]
        raise errors.SourceUnparsable(f"cannot parse {request.source_path}: {reason}") from exc
    found = introspect.module_names(request, candidates, doctests=doctests)
    names = found.declared if found.declared is not None else found.present
    checked = found.doctests
    failing = checked.reason if checked is not None and not checked.passed else None
    return ModuleFacts(names=sorted(set(names)), doctests_fail=failing)


def python_tests(request: AgentRequest) -> tuple[str, ModuleFacts]:
    """The test file of the requested Python module, and what it was written from: new smoke
    tests, or the existing file with them appended."""
    facts = module_facts(request)
    existing = existing_content(request, HEADER)
    if existing is None:
        return render_tests(request.module_name, facts.names, facts.doctests_fail), facts
    content = append_tests(existing, request.module_name, facts.names, facts.doctests_fail)
    return content, facts


class ScaffoldAgent:
    """Write smoke tests of the requested module from its source; ignore feedback."""

    name: str = "scaffold"

    def write_tests(self, request: AgentRequest) -> AgentResult:
        """Write the smoke tests of request.module_name to request.test_path."""
        started = time.monotonic()
        try:
            note = ""
            if request.layout is Layout.PHOENIX:
                content, covered = elixir_tests(request)
            else:
                content, facts = python_tests(request)
                covered = len(facts.names)
                if facts.doctests_fail is not None:
                    note = f"; no doctest test: {facts.doctests_fail}"
            write_test_file(request, content)
        except (
            ScaffoldError,
            errors.ComponentFailure,
            errors.UnsafeFile,
            errors.LimitExceeded,
        ) as exc:
            return AgentResult(
                ok=False,
                duration_s=time.monotonic() - started,
                error=str(exc),
                permanent=errors.no_round_can_fix(exc),
            )
        except OSError as exc:
            return AgentResult(
                ok=False,
                duration_s=time.monotonic() - started,
                error=f"cannot write {request.test_path}: {exc.strerror or exc}",
            )
        what = "functions" if request.layout is Layout.PHOENIX else "public names"
        verb = "added to" if request.existing is not None else "wrote"
        return AgentResult(
            ok=True,
            duration_s=time.monotonic() - started,
            stdout_tail=f"{verb} {request.test_path} covering {covered} {what}{note}",
        )
