"""The regression gate: which tests that passed at the base a change lost.

Pure: callers run a component's existing test file at the base commit and again with the
change applied, and this module compares the two reports' test cases. A test that passed at
the base is *lost* when it is gone (the runner no longer reports it) or broken (reported,
but no longer passing: failed, erroring or skipped). Tests that did not pass at the base are
not the gate's business; whether every collected test passes is judged apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ctworkflow.domain.model import TestReport

#: How many lost test ids one message names before it says "and N more".
NAMED_IN_MESSAGE: Final = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Lost:
    """The base's passing tests a change lost, sorted."""

    gone: tuple[str, ...] = ()
    broken: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.gone or self.broken)

    @property
    def count(self) -> int:
        """How many tests were lost."""
        return len(self.gone) + len(self.broken)


def lost_tests(base: TestReport | None, after: TestReport) -> Lost:
    """The tests that passed in ``base`` and are gone from, or do not pass in, ``after``."""
    if base is None:
        return Lost()
    passing_before = base.passing_ids()
    gone = sorted(case for case in passing_before if case not in after.cases)
    broken = sorted(
        case for case in passing_before if case in after.cases and after.cases[case] != "passed"
    )
    return Lost(gone=tuple(gone), broken=tuple(broken))


def _grouped(ids: tuple[str, ...]) -> list[str]:
    """The ids, a parametrized test's cases (``test_x[1]``, ``test_x[2]``) told as one."""
    groups: dict[str, list[str]] = {}
    for case in ids:
        groups.setdefault(case.split("[", 1)[0] if "[" in case else case, []).append(case)
    return [
        f"{name} ({len(cases)} cases)" if len(cases) > 1 else cases[0]
        for name, cases in groups.items()
    ]


def _named(ids: tuple[str, ...]) -> str:
    names = _grouped(ids)
    shown = ", ".join(names[:NAMED_IN_MESSAGE])
    more = len(names) - NAMED_IN_MESSAGE
    return f"{shown} and {more} more" if more > 0 else shown


def describe(test_path: str, lost: Lost, base: TestReport) -> str:
    """One line naming the lost tests of ``test_path``."""
    parts = []
    if lost.gone:
        parts.append(f"gone: {_named(lost.gone)}")
    if lost.broken:
        parts.append(f"broken: {_named(lost.broken)}")
    had = len(base.passing_ids())
    return (
        f"lost {lost.count} of the {had} existing tests of {test_path} that passed at the base "
        f"({'; '.join(parts)})"
    )


def kept_summary(report: TestReport) -> str:
    """How a component whose existing test file was kept unchanged is reported."""
    return f"kept the existing {report.collected} tests; all pass"


def run_failure(test_path: str, report: TestReport, lost: Lost, base: TestReport | None) -> str:
    """Why a run of a component's test file did not pass: the tests it lost of those that
    passed at the base, its counts unless every test passed, then the runner's output."""
    reasons = []
    if lost and base is not None:
        reasons.append(describe(test_path, lost, base))
    if not report.all_passed:
        reasons.append(
            f"{report.failed} failed, {report.errors} errors, {report.passed} passed "
            f"of {report.collected} collected"
        )
    return "\n".join([*reasons, report.output_tail]).rstrip()
