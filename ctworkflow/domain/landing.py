"""What lands on a context session's branch when some components fail, and what the session's
outcome says about it.

Pure. A project's ``finalize`` setting chooses the rule: ``all`` (the default) lands the test
files only when every component passed; ``passing`` lands those of the components that passed
once the rounds can no longer change the others (the last round was spent, or every failure left
is permanent), and names the ones that failed, with their reasons. If no component passed,
nothing lands under either rule and the session fails. See ``docs/finalize.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from ctworkflow import errors
from ctworkflow.domain.model import Artifact, Component, Session
from ctworkflow.domain.states import SessionStatus, SessionType

#: The project setting that chooses the rule.
SETTING: Final = "finalize"


class FinalizePolicy(StrEnum):
    """Which components' test files a context session lands on its branch."""

    ALL = "all"  #: every component must pass, else the session fails and nothing lands
    PASSING = "passing"  #: the components that passed land; the others are named, with why


def check_setting(value: object) -> FinalizePolicy:
    """The ``finalize`` setting's value, checked.

    Raises:
        InvalidInput: it is not one of the policies, naming them.
    """
    if isinstance(value, str) and value in {p.value for p in FinalizePolicy}:
        return FinalizePolicy(value)
    choices = ", ".join(p.value for p in FinalizePolicy)
    raise errors.InvalidInput(f"setting {SETTING} must be one of {choices}, not {value!r}")


def policy_of(settings: Mapping[str, Any]) -> FinalizePolicy:
    """A project's policy (its settings were checked when it was created; ``all`` otherwise)."""
    try:
        return FinalizePolicy(settings.get(SETTING, FinalizePolicy.ALL))
    except ValueError:
        return FinalizePolicy.ALL


def lands_partially(
    policy: FinalizePolicy, *, failed: int, total: int, give_up: bool, last_round: bool
) -> bool:
    """Tell whether a round with ``failed`` of ``total`` components failing ends the session's
    rounds by landing the others: only under ``passing``, only when at least one passed, and
    only when no further round is to run (``last_round``) or could change the failures
    (``give_up``)."""
    return policy is FinalizePolicy.PASSING and 0 < failed < total and (give_up or last_round)


@dataclass(frozen=True, slots=True, kw_only=True)
class LandedComponent:
    """A component whose test file is on the pushed branch (or was kept as it was)."""

    module_name: str
    name: str
    test_path: str | None

    def to_json(self) -> dict[str, Any]:
        """The component as a JSON document."""
        return {"module_name": self.module_name, "name": self.name, "test_path": self.test_path}


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedComponent:
    """A component whose tests did not land, and why."""

    module_name: str
    name: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        """The component as a JSON document."""
        return {"module_name": self.module_name, "name": self.name, "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionOutcome:
    """What an ended context session left: the components that landed and the ones that
    failed. ``partial``: it completed with some components failed (``finalize: passing``)."""

    partial: bool
    landed: tuple[LandedComponent, ...]
    failed: tuple[FailedComponent, ...]

    def to_json(self) -> dict[str, Any]:
        """The outcome as a JSON document."""
        return {
            "partial": self.partial,
            "landed": [c.to_json() for c in self.landed],
            "failed": [c.to_json() for c in self.failed],
        }

    def describe(self) -> str:
        """One line: how many landed, and every failed component with its reason's first line."""
        text = f"{len(self.landed)} landed, {len(self.failed)} failed"
        if self.failed:
            text += ": " + "; ".join(
                f"{c.module_name} ({first_line(c.reason)})" for c in self.failed
            )
        return text


def first_line(text: str | None) -> str:
    """The first non-blank line of ``text``."""
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def outcome_of(
    session: Session,
    children: Sequence[Session],
    components: Mapping[Any, Component],
    artifacts: Mapping[Any, Artifact],
) -> SessionOutcome | None:
    """The outcome of an ended context session (None while it runs, once cancelled, and for a
    component session).

    A complete session landed its complete children's test files; a failed one landed nothing.
    Either way every child that ended failed or cancelled is named with its reason.
    """
    ended = session.status in (SessionStatus.COMPLETE, SessionStatus.FAILED)
    if not ended or session.type is not SessionType.CONTEXT_TESTING:
        return None
    landed: list[LandedComponent] = []
    failed: list[FailedComponent] = []
    for child in children:
        component = components.get(child.component_id)
        module_name = component.module_name if component else str(child.component_id)
        name = component.name if component else module_name
        if child.status is SessionStatus.COMPLETE:
            if session.status is SessionStatus.COMPLETE:
                artifact = artifacts.get(child.id)
                test_path = artifact.test_path if artifact else None
                landed.append(
                    LandedComponent(module_name=module_name, name=name, test_path=test_path)
                )
        elif child.status in (SessionStatus.FAILED, SessionStatus.CANCELLED):
            reason = child.error or child.status.value
            failed.append(FailedComponent(module_name=module_name, name=name, reason=reason))
    partial = session.status is SessionStatus.COMPLETE and bool(failed)
    return SessionOutcome(partial=partial, landed=tuple(landed), failed=tuple(failed))
