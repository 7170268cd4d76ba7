"""Validation of a fan-out round: did every component end with an existing, passing test file
that kept every test that passed at the base?

Pure: the callers load children, artifacts and the orchestrator's own test reports (of the
existing test files at the base commit, and of every test file with the round's change
applied), and this module says, for every component that did not pass, why. Every failing
component is named, not only the first category; a component whose change lost tests that
passed at the base is named with those tests (:mod:`ctworkflow.domain.regression`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ctworkflow.domain import landing, regression, rounds
from ctworkflow.domain.model import ArtifactHead, Component, Outcome, RoundChild, TestReport
from ctworkflow.domain.states import TERMINAL, SessionStatus

#: How much of one component's reason is kept in the session's summary line.
REASON_PREVIEW = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """One component that did not pass, and why."""

    component_id: uuid.UUID
    module_name: str
    name: str
    reason: str
    child_id: uuid.UUID | None = None
    #: No further round can change it (see :mod:`ctworkflow.domain.rounds`).
    permanent: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the failure as a JSON document."""
        return {
            "component_id": str(self.component_id),
            "child_id": str(self.child_id) if self.child_id else None,
            "module_name": self.module_name,
            "name": self.name,
            "reason": self.reason,
            "permanent": self.permanent,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Failure:
        """Rebuild a failure from :meth:`to_json`'s output."""
        child_id = data.get("child_id")
        return cls(
            component_id=uuid.UUID(str(data["component_id"])),
            module_name=str(data.get("module_name", "")),
            name=str(data.get("name", "")),
            reason=str(data.get("reason", "")),
            child_id=uuid.UUID(str(child_id)) if child_id else None,
            permanent=bool(data.get("permanent", False)),
        )


def failures_of(data: Mapping[str, Any]) -> list[Failure]:
    """The failures a round's validation recorded in its outcome's data."""
    return [Failure.from_json(f) for f in data.get("failures", [])]


def feedback_by_child(failures: Sequence[Failure]) -> dict[uuid.UUID, str]:
    """Why each child failed a round: what the next round hands it."""
    return {f.child_id: f.reason for f in failures if f.child_id is not None}


def unverified(
    components: Sequence[Component],
    children: Sequence[RoundChild],
    artifacts: Mapping[uuid.UUID, ArtifactHead],
) -> tuple[list[Failure], list[ArtifactHead]]:
    """Check statuses and files; return the failures and the artifacts left to run.

    A component passes this stage when it has a child session, the child is complete and its
    newest artifact holds a non-empty test file (one of blanks only is run, and collects no
    test).
    """
    by_component = {child.component_id: child for child in children}
    failures: list[Failure] = []
    to_run: list[ArtifactHead] = []
    for component in components:
        child = by_component.get(component.id)
        reason, artifact = _check(child, artifacts)
        if reason is not None:
            permanent = child is not None and child.failed_permanently
            failures.append(_failure(component, child, reason, permanent=permanent))
        elif artifact is not None:
            to_run.append(artifact)
    return failures, to_run


def _check(
    child: RoundChild | None, artifacts: Mapping[uuid.UUID, ArtifactHead]
) -> tuple[str | None, ArtifactHead | None]:
    if child is None:
        return "no component testing session", None
    if child.status not in TERMINAL:
        return "still running", None
    if child.status is not SessionStatus.COMPLETE:
        return f"{child.status.value}: {child.error or 'no reason recorded'}", None
    artifact = artifacts.get(child.id)
    if artifact is None or artifact.size == 0:
        return "no test file", None
    return None, artifact


def disproved(
    components: Sequence[Component],
    children: Sequence[RoundChild],
    artifacts: Sequence[ArtifactHead],
    reports: Mapping[str, TestReport],
    base_reports: Mapping[str, TestReport] | None = None,
) -> list[Failure]:
    """Components whose test file does not pass when the orchestrator runs it itself, or
    lost tests that passed in their existing test file at the base (``base_reports``, keyed
    by test path, for the files that existed there)."""
    child_by_id = {child.id: child for child in children}
    component_by_id = {component.id: component for component in components}
    failures: list[Failure] = []
    for artifact in artifacts:
        report = reports.get(artifact.test_path, TestReport())
        base = (base_reports or {}).get(artifact.test_path)
        lost = regression.lost_tests(base, report)
        if report.all_passed and not lost:
            continue
        reasons = []
        if lost and base is not None:
            reasons.append(regression.describe(artifact.test_path, lost, base))
        if not report.all_passed:
            reasons.append(_report_reason(report))
        child = child_by_id[artifact.session_id]
        failures.append(_failure(component_by_id[child.component_id], child, "\n".join(reasons)))
    return failures


def kept(artifacts: Sequence[ArtifactHead], base_digests: Mapping[str, str]) -> list[ArtifactHead]:
    """The artifacts that keep the component's existing test file exactly as it was (the
    same digest as the file at the base, by test path)."""
    return [a for a in artifacts if base_digests.get(a.test_path) == a.digest]


def _report_reason(report: TestReport) -> str:
    if report.collected == 0:
        head = "no test collected"
    else:
        head = (
            f"tests fail when run by the orchestrator: {report.failed} failed, "
            f"{report.errors} errors of {report.collected}"
        )
    return f"{head}\n{report.output_tail}".rstrip()


def _failure(
    component: Component, child: RoundChild | None, reason: str, *, permanent: bool = False
) -> Failure:
    return Failure(
        component_id=component.id,
        module_name=component.module_name,
        name=component.name,
        reason=reason,
        child_id=child.id if child else None,
        permanent=permanent,
    )


def summary(failures: Sequence[Failure], total: int) -> str:
    """One line naming every failing component and why."""
    parts = []
    for failure in failures:
        first_line = failure.reason.splitlines()[0] if failure.reason else ""
        parts.append(f"{failure.module_name} ({first_line[:REASON_PREVIEW]})")
    return f"{len(failures)} of {total} components did not pass: " + "; ".join(parts)


def failed_components(failures: Sequence[Failure]) -> set[uuid.UUID]:
    """The components a round's failures name."""
    return {f.component_id for f in failures}


def verdict(
    failures: Sequence[Failure],
    components: int,
    reports: Mapping[str, TestReport],
    kept_summaries: Sequence[Mapping[str, str]],
    *,
    policy: landing.FinalizePolicy = landing.FinalizePolicy.ALL,
    last_round: bool = False,
) -> tuple[Outcome, bool]:
    """A round's outcome, and whether the session gives up now: every failure left is one no
    round can change (:func:`ctworkflow.domain.rounds.another_round_helps`).

    Under the ``passing`` policy a round with failures that ends the rounds (``last_round``, or
    nothing left to retry) and in which some component passed is a success that lands only
    those (:func:`ctworkflow.domain.landing.lands_partially`): ``reports`` and
    ``kept_summaries`` are then the passing components' own, and the outcome's data says
    ``partial`` and names the failures."""
    if failures:
        give_up = not rounds.another_round_helps(failures)
        failed = len(failed_components(failures))
        if not landing.lands_partially(
            policy, failed=failed, total=components, give_up=give_up, last_round=last_round
        ):
            outcome = Outcome.error(
                summary(failures, components),
                data={"failures": [f.to_json() for f in failures]},
                permanent=give_up,
            )
            return outcome, give_up
    data: dict[str, Any] = {
        "components": components,
        "tests_collected": sum(r.collected for r in reports.values()),
        "tests_passed": sum(r.passed for r in reports.values()),
        "kept": [dict(k) for k in kept_summaries],
    }
    if failures:
        data |= {
            "partial": True,
            "summary": summary(failures, components),
            "failures": [f.to_json() for f in failures],
        }
    return Outcome.ok(data=data), False
