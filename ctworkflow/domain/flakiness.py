"""Flaky new tests: which tests are checked, their verdict, and what the agent is told.

Pure. Once a component's test file passes, its new and changed tests run again, several times
in random order (each run with its own seed) and once alone each. A test that fails any of
those runs is flaky: a new one is dropped from the file, an existing one (it passed at the
base) is only reported, never touched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ctworkflow import errors

#: The project setting: how many runs in random order check the new tests (0: none).
SETTING: Final = "flaky_runs"
DEFAULT_RUNS: Final = 5
MAX_RUNS: Final = 20
#: At most this many checked tests also run alone, each in a process of its own.
MAX_ALONE: Final = 20
#: How long a failure line may be in a report.
LINE_CHARS: Final = 300
_FAILED: Final = frozenset({"failed", "error"})
#: What the agent is told to do about a flaky test.
ADVICE: Final = (
    "A test must pass whatever runs before it and on its own: no state shared with other "
    "tests, no reliance on order, time or randomness."
)


def check_runs(value: object) -> int:
    """The ``flaky_runs`` setting, checked.

    Raises:
        InvalidInput: not a whole number from 0 to :data:`MAX_RUNS`.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RUNS:
        raise errors.InvalidInput(
            f"setting {SETTING} must be a whole number from 0 to {MAX_RUNS} "
            "(0 turns the check for flaky tests off)"
        )
    return value


def runs_setting(settings: Mapping[str, Any]) -> int:
    """How many runs in random order a project's settings ask for."""
    return check_runs(settings.get(SETTING, DEFAULT_RUNS))


def seeds(key: str, runs: int) -> list[int]:
    """``runs`` distinct seeds drawn from ``key``: the same key gives the same seeds."""
    found: list[int] = []
    salt = 0
    while len(found) < runs:
        digest = hashlib.sha256(f"{key}:{salt}".encode()).digest()
        salt += 1
        seed = int.from_bytes(digest[:4], "big")
        if seed not in found:
            found.append(seed)
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class FlakyTest:
    """A test that passed once and failed in a repeated run."""

    #: Its case id within the file.
    test: str
    #: In how many of the ``runs`` it took part in it failed, and which (``alone``,
    #: ``random order, seed 123``).
    failed_runs: int
    runs: int
    failed_in: tuple[str, ...]
    #: The first line of its first failure.
    line: str
    #: Taken out of the file (a new test); False: reported only (it passed at the base).
    dropped: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "failed_runs": self.failed_runs,
            "runs": self.runs,
            "failed_in": list(self.failed_in),
            "line": self.line,
            "dropped": self.dropped,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FlakyTest:
        return cls(
            test=str(data.get("test", "")),
            failed_runs=int(data.get("failed_runs", 0)),
            runs=int(data.get("runs", 0)),
            failed_in=tuple(str(r) for r in data.get("failed_in") or ()),
            line=str(data.get("line", "")),
            dropped=bool(data.get("dropped", False)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One repeated run: its name, each case's outcome, and what it printed on failures."""

    label: str
    cases: Mapping[str, str]
    output: str = ""


def first_case(run: Run) -> str | None:
    """The case a run ran first (runners report cases in the order they ran; a skipped one,
    a test ExUnit's ``--only`` left out, ran none of its code): with nothing before it in a
    fresh process, it ran as if alone."""
    return next((case for case, outcome in run.cases.items() if outcome != "skipped"), None)


def under_check(
    base_cases: Mapping[str, str] | None,
    cases: Mapping[str, str],
    changed: Collection[str],
    function_of: Callable[[str], str],
) -> list[str]:
    """The cases that passed and are new (not at the base) or whose function changed since."""
    base = base_cases or {}
    return [
        case
        for case, outcome in cases.items()
        if outcome == "passed" and (case not in base or function_of(case) in changed)
    ]


def failure_line(output: str, case_id: str) -> str:
    """The first line of ``case_id``'s failure in a run's output, else the output's first."""
    name = case_id.rsplit("::", 1)[-1]
    blocks = [block.strip() for block in output.split("\n\n") if block.strip()]
    chosen = next((b for b in blocks if name in b.splitlines()[0]), blocks[0] if blocks else "")
    lines = [line.strip() for line in chosen.splitlines() if line.strip()]
    # The runner's first line names the test; the assertion that failed is the telling one.
    error = next((line for line in lines if line.startswith("E ")), None)
    source = next((line for line in lines if line.startswith(">")), None)
    line = error or source or (lines[0] if lines else "")
    return line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…"


def judge(
    checked: Sequence[str], runs: Sequence[Run], base_cases: Mapping[str, str] | None
) -> list[FlakyTest]:
    """The checked cases that failed any run they took part in (a run that did not report
    a case, or skipped it, does not count for it); those not at the base are to be dropped."""
    base = base_cases or {}
    flaky: list[FlakyTest] = []
    for case in checked:
        took_part = [run for run in runs if run.cases.get(case, "skipped") != "skipped"]
        failed = [run for run in took_part if run.cases[case] in _FAILED]
        if not failed:
            continue
        flaky.append(
            FlakyTest(
                test=case,
                failed_runs=len(failed),
                runs=len(took_part),
                failed_in=tuple(run.label for run in failed),
                line=failure_line(failed[0].output, case),
                dropped=case not in base,
            )
        )
    return flaky


def describe(flaky: Sequence[FlakyTest]) -> str:
    """One line per flaky test: its id, how often it failed and how."""
    return "\n".join(
        f"- {t.test}: failed {t.failed_runs} of {t.runs} runs ({', '.join(t.failed_in)}): {t.line}"
        for t in flaky
    )


def feedback(test_path: str, flaky: Sequence[FlakyTest]) -> str | None:
    """What the agent is told about flaky tests, or None when there were none."""
    if not flaky:
        return None
    dropped = [t for t in flaky if t.dropped]
    kept = [t for t in flaky if not t.dropped]
    parts = []
    if dropped:
        parts.append(
            f"These new tests of {test_path} passed once but failed when run again in random "
            "order or alone, so they were dropped from the file:\n" + describe(dropped)
        )
    if kept:
        parts.append(
            f"These tests of {test_path} that passed at the base failed when run again in "
            "random order or alone (kept, not yours to remove):\n" + describe(kept)
        )
    parts.append(ADVICE)
    return "\n".join(parts)
