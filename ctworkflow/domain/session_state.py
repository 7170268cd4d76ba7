"""What a session keeps between its steps: one typed value, and the patches that change it.

Pure. A session's state is stored as one JSON document (the ``state`` column); this module is
the only one that knows its keys. Each writer names only the keys it sets in a
:class:`StatePatch`, and the store merges the patch into the stored document in one
statement (``ctworkflow.persistence``), so two writers never drop each other's keys, whatever
copy of the session they read earlier.

The keys, by who writes them:

- a component testing session's round: ``feedback`` (what the last round said was wrong),
  ``notes`` (what its last run dropped on its own), ``permanent_failure`` (why no round can
  make it pass);
- a context testing session's initialize: ``layout`` (the layout profile of its base commit)
  and ``environment`` (its recipe and how it was built), then its branch: ``branch_head``
  (the head initialize saw, finalize's lease), ``created_branch`` and ``branch_deleted``;
- the reconciler and the use cases that could not send a wake-up: ``queued`` (why the
  reconciler is to send it).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

#: The keys of the stored document, one per field of :class:`SessionState`.
FEEDBACK: Final = "feedback"
NOTES: Final = "notes"
PERMANENT_FAILURE: Final = "permanent_failure"
LAYOUT: Final = "layout"
ENVIRONMENT: Final = "environment"
BRANCH_HEAD: Final = "branch_head"
CREATED_BRANCH: Final = "created_branch"
BRANCH_DELETED: Final = "branch_deleted"
QUEUED: Final = "queued"


@dataclass(frozen=True, slots=True)
class BranchHead:
    """The head of the session's branch initialize saw: a commit, or None (no branch)."""

    commit: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionState:
    """A session's state; a field left at its default is not in the stored document."""

    #: What the previous round said was wrong (a component testing session).
    feedback: str | None = None
    #: What the last run changed on its own and the agent must know (flaky tests it dropped).
    notes: str | None = None
    #: Why the last run failed for a reason no round can change.
    permanent_failure: str | None = None
    #: The layout profile of the base commit, with that commit (``repository_layout``).
    layout: Mapping[str, Any] | None = None
    #: The environment's recipe and how it was built (``workflow.environment``).
    environment: Mapping[str, Any] | None = None
    #: The head of the branch initialize saw (None: not recorded, before takeovers were).
    branch_head: BranchHead | None = None
    #: The session created its branch.
    created_branch: bool = False
    #: And deleted it again, empty, when it ended.
    branch_deleted: bool = False
    #: Why the session waits for the reconciler to send its next step.
    queued: str | None = None

    def expected_head(self, base: str) -> str | None:
        """The head finalize expects its branch at: the one initialize saw, else ``base``."""
        return base if self.branch_head is None else self.branch_head.commit

    def to_json(self) -> dict[str, Any]:
        """The stored document: only the fields that are set."""
        return _document(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SessionState:
        """Rebuild a state from a stored document; keys it does not know are ignored."""
        return cls(**{name: _decode(name, data[name]) for name in _FIELDS if name in data})


class _Keep(enum.Enum):
    KEEP = "keep"


#: A patch's field left at this is not touched.
KEEP: Final = _Keep.KEEP


@dataclass(frozen=True, slots=True, kw_only=True)
class StatePatch:
    """The keys one writer sets; the others stay as they are in the store.

    A field left at :data:`KEEP` is not touched; set to None (or False), it removes the key.
    """

    feedback: str | _Keep | None = KEEP
    notes: str | _Keep | None = KEEP
    permanent_failure: str | _Keep | None = KEEP
    layout: Mapping[str, Any] | _Keep | None = KEEP
    environment: Mapping[str, Any] | _Keep | None = KEEP
    branch_head: BranchHead | _Keep | None = KEEP
    created_branch: bool | _Keep = KEEP
    branch_deleted: bool | _Keep = KEEP
    queued: str | _Keep | None = KEEP

    def named(self) -> dict[str, object]:
        """The fields the patch sets, with their new values."""
        return {name: value for name in _FIELDS if (value := getattr(self, name)) is not KEEP}

    def assignments(self) -> dict[str, Any]:
        """The keys the patch writes, with their JSON values (a value may be JSON null)."""
        written = SessionState(**self.named())  # type: ignore[arg-type]
        document = written.to_json()
        return {name: document[name] for name in self.named() if name in document}

    def removals(self) -> frozenset[str]:
        """The keys the patch removes."""
        return frozenset(self.named()) - frozenset(self.assignments())

    def apply(self, state: SessionState) -> SessionState:
        """``state`` with this patch merged in."""
        return dataclasses.replace(state, **self.named())  # type: ignore[arg-type]

    def merge_into(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """A stored document with this patch merged in: its keys replaced or removed."""
        removed = self.removals()
        kept = {key: value for key, value in document.items() if key not in removed}
        return {**kept, **self.assignments()}


_FIELDS: Final = tuple(f.name for f in dataclasses.fields(SessionState))


def _document(state: SessionState) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(state, name)
        if value is None or value is False:
            continue
        if isinstance(value, BranchHead):
            document[name] = value.commit
        elif isinstance(value, Mapping):
            document[name] = dict(value)
        else:
            document[name] = value
    return document


def _decode(name: str, value: Any) -> Any:
    """A field's value from its stored JSON (written by this module or by older code)."""
    if name == BRANCH_HEAD:
        return BranchHead(None if value is None else str(value))
    if name in (CREATED_BRANCH, BRANCH_DELETED):
        return bool(value)
    if name in (LAYOUT, ENVIRONMENT):
        return dict(value) if isinstance(value, Mapping) else None
    return None if value is None or value == "" else str(value)
