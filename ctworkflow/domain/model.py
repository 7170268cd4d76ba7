"""Domain values: frozen, typed, free of any database or Celery type."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from ctworkflow.domain.flakiness import FlakyTest
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.session_state import SessionState
from ctworkflow.domain.states import (
    TERMINAL,
    ExecutionMode,
    ResultStatus,
    SessionStatus,
    SessionType,
)

JSON = Mapping[str, Any]

#: The outcomes a test case can have, from best to worst.
CASE_OUTCOMES = ("passed", "skipped", "failed", "error")
#: Key of an outcome's stored data that says it failed permanently (:attr:`Outcome.permanent`).
PERMANENT: Final = "permanent"


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """Who acts, and on which tenant: every read and write is filtered by it."""

    account_id: uuid.UUID
    project_id: uuid.UUID
    user_id: str = "system"

    def to_json(self) -> dict[str, str]:
        """Return the scope as JSON-safe task arguments."""
        return {
            "account_id": str(self.account_id),
            "project_id": str(self.project_id),
            "user_id": self.user_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> Scope:
        """Rebuild a scope from :meth:`to_json`'s output."""
        return cls(
            account_id=uuid.UUID(data["account_id"]),
            project_id=uuid.UUID(data["project_id"]),
            user_id=data.get("user_id", "system"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """A tenant."""

    id: uuid.UUID
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """A code base of an account, with its git remote and layout."""

    id: uuid.UUID
    account_id: uuid.UUID
    name: str
    code_repo: str
    layout: Layout
    default_branch: str
    settings: JSON = field(default_factory=dict)
    created_at: datetime
    #: The commit component discovery last read, if it ever ran.
    discovered_commit: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Component:
    """A unit of the target code; a context is a component whose children get tested."""

    id: uuid.UUID
    account_id: uuid.UUID
    project_id: uuid.UUID
    parent_id: uuid.UUID | None
    name: str
    module_name: str
    type: str
    priority: int
    created_at: datetime
    #: When discovery stopped finding the module; removed components keep their sessions.
    removed_at: datetime | None = None

    @property
    def removed(self) -> bool:
        """Tell whether the component is no longer in the repository."""
        return self.removed_at is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """One run of a workflow over a component."""

    id: uuid.UUID
    type: SessionType
    status: SessionStatus
    account_id: uuid.UUID
    project_id: uuid.UUID
    user_id: str
    component_id: uuid.UUID
    parent_id: uuid.UUID | None
    execution_mode: ExecutionMode
    environment_type: str
    agent: str
    #: What the session keeps between its steps (:mod:`ctworkflow.domain.session_state`).
    state: SessionState
    attempt: int
    #: The last round (a context session: the last attempt of each step too) the session may
    #: run; a child carries its parent's, which a retry raises for both.
    max_attempts: int
    idempotency_key: str | None
    branch_name: str | None
    base_commit: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    worker_losses: int = 0
    #: The test runner a context session asked for (None: its project's, else its layout's).
    runner: str | None = None
    #: The commit a context session's finalize pushed (None: none, or nothing to commit).
    pushed_commit: str | None = None

    @property
    def terminal(self) -> bool:
        """Tell whether the session has ended."""
        return self.status in TERMINAL

    @property
    def scope(self) -> Scope:
        """The tenant scope the session lives in."""
        return Scope(account_id=self.account_id, project_id=self.project_id, user_id=self.user_id)

    @property
    def round_child(self) -> RoundChild:
        """What a round's validation and finalize read of this (child) session."""
        return RoundChild(
            id=self.id,
            component_id=self.component_id,
            status=self.status,
            error=self.error,
            permanent_failure=bool(self.state.permanent_failure),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundChild:
    """A child session as a round's validation and finalize read it: its status and why, not
    its state or history (a 10,000-wide round holds one of these per component)."""

    id: uuid.UUID
    component_id: uuid.UUID
    status: SessionStatus
    error: str | None
    #: Its state names a reason no round can change (``SessionState.permanent_failure``).
    permanent_failure: bool

    @property
    def failed_permanently(self) -> bool:
        """Its last run failed for a reason no round can change."""
        return self.status is SessionStatus.FAILED and self.permanent_failure


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """What a step did or asked for: an argv list or a keyword, plus metadata."""

    argv: tuple[str, ...] | None = None
    keyword: str | None = None
    metadata: JSON = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the command as a JSON document."""
        return {
            "argv": list(self.argv) if self.argv is not None else None,
            "keyword": self.keyword,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Command:
        """Rebuild a command from :meth:`to_json`'s output."""
        argv = data.get("argv")
        return cls(
            argv=tuple(argv) if argv is not None else None,
            keyword=data.get("keyword"),
            metadata=dict(data.get("metadata") or {}),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """The result of an interaction."""

    status: ResultStatus
    data: JSON = field(default_factory=dict)
    exit_code: int | None = None
    stdout_tail: str = ""
    stderr_tail: str = ""
    error_message: str | None = None
    #: The step failed for a reason no further try can change.
    permanent: bool = False

    def data_json(self) -> dict[str, Any]:
        """The data as stored and shown: ``data``, with ``"permanent": true`` if it is."""
        return {**self.data, PERMANENT: True} if self.permanent else dict(self.data)

    @staticmethod
    def split_data(stored: Mapping[str, Any] | None) -> tuple[dict[str, Any], bool]:
        """:meth:`data_json`'s output back into ``data`` and ``permanent``."""
        data = dict(stored or {})
        return data, data.pop(PERMANENT, False) is True

    @classmethod
    def ok(cls, **kwargs: Any) -> Outcome:
        """A successful outcome."""
        return cls(status=ResultStatus.OK, **kwargs)

    @classmethod
    def error(cls, message: str, **kwargs: Any) -> Outcome:
        """A failed outcome that says why."""
        return cls(status=ResultStatus.ERROR, error_message=message, **kwargs)


@dataclass(frozen=True, slots=True, kw_only=True)
class Interaction:
    """One step of a session: its command and, once done, its outcome."""

    id: uuid.UUID
    session_id: uuid.UUID
    step: str
    attempt: int
    command: Command
    outcome: Outcome | None
    duration_ms: int | None
    started_at: datetime
    completed_at: datetime | None

    @property
    def pending(self) -> bool:
        """Tell whether the step has not reported its outcome yet."""
        return self.outcome is None


@dataclass(frozen=True, slots=True, kw_only=True)
class TestReport:
    """What a test runner found in one test file."""

    __test__ = False  # not a pytest test class

    collected: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    duration_s: float = 0.0
    output_tail: str = ""
    #: Line and branch coverage in percent of the component's source, when measured.
    coverage: float | None = None
    #: Every test case the runner reported, by its id within the file (pytest:
    #: ``TestClass::test_name[param]``; ExUnit: ``ModuleTest test name``), with its outcome
    #: (one of :data:`CASE_OUTCOMES`). What the regression gate compares.
    cases: Mapping[str, str] = field(default_factory=dict)
    #: How many times the new and changed tests ran again in random order, and alone, once
    #: the file passed (:mod:`ctworkflow.domain.flakiness`); 0: not checked.
    repeated_runs: int = 0
    alone_runs: int = 0
    #: The tests that failed one of those runs (the new ones dropped from the file).
    flaky: tuple[FlakyTest, ...] = ()
    #: What the test file exercises of its source, at the base and after the change
    #: (:mod:`ctworkflow.domain.quality`); None when nothing was measured.
    quality: JSON | None = None

    @property
    def all_passed(self) -> bool:
        """At least one test ran, and every collected test passed."""
        return self.collected > 0 and self.failed == 0 and self.errors == 0 and self.passed > 0

    def passing_ids(self) -> frozenset[str]:
        """The ids of the test cases that passed."""
        return frozenset(case for case, outcome in self.cases.items() if outcome == "passed")

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON document."""
        return {
            "collected": self.collected,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "skipped": self.skipped,
            "duration_s": self.duration_s,
            "output_tail": self.output_tail,
            **({"coverage": self.coverage} if self.coverage is not None else {}),
            "cases": dict(self.cases),
            **({"quality": dict(self.quality)} if self.quality is not None else {}),
            **(self._flakiness() if self.repeated_runs or self.flaky else {}),
        }

    def _flakiness(self) -> dict[str, Any]:
        return {
            "repeated_runs": self.repeated_runs,
            "alone_runs": self.alone_runs,
            "flaky": [test.to_json() for test in self.flaky],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TestReport:
        """Rebuild a report from :meth:`to_json`'s output."""
        return cls(
            collected=int(data.get("collected", 0)),
            passed=int(data.get("passed", 0)),
            failed=int(data.get("failed", 0)),
            errors=int(data.get("errors", 0)),
            skipped=int(data.get("skipped", 0)),
            duration_s=float(data.get("duration_s", 0.0)),
            output_tail=str(data.get("output_tail", "")),
            coverage=float(data["coverage"]) if data.get("coverage") is not None else None,
            cases={str(k): str(v) for k, v in dict(data.get("cases") or {}).items()},
            repeated_runs=int(data.get("repeated_runs", 0)),
            alone_runs=int(data.get("alone_runs", 0)),
            flaky=tuple(FlakyTest.from_json(t) for t in data.get("flaky") or ()),
            quality=dict(data["quality"]) if isinstance(data.get("quality"), Mapping) else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Artifact:
    """What a component testing session produced in one attempt: a test file and its report."""

    id: uuid.UUID
    session_id: uuid.UUID
    attempt: int
    test_path: str
    content: str
    digest: str
    report: TestReport
    created_at: datetime

    @property
    def head(self) -> ArtifactHead:
        """The artifact without its test file."""
        return ArtifactHead(
            id=self.id,
            session_id=self.session_id,
            test_path=self.test_path,
            digest=self.digest,
            size=len(self.content),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactHead:
    """An artifact without its test file or report: what a round's validation and finalize
    hold of each component. They read the files a page at a time as they write them
    (``SessionRecords.artifact_contents``), so a 10,000-wide round never holds every file."""

    id: uuid.UUID
    session_id: uuid.UUID
    test_path: str
    #: SHA-256 of the test file (UTF-8), hex.
    digest: str
    #: The test file's length in characters; 0 for an empty file.
    size: int
