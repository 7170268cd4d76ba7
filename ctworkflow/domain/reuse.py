"""Incremental sessions: which components of a context keep the test file an earlier session
verified, and which run their agent again.

Pure. A component keeps the verified artifact of the latest *complete* session of the same
context when four facts are the same now (at the new session's base commit) as then (at the
earlier session's base commit):

- its **source file**: the same git blob id;
- its **test file**: the blob at the new base is the one the earlier session found at its base
  (its branch was not merged), or is the earlier artifact's content (its branch was merged);
  a test file absent at both bases is unchanged;
- the target's **environment**: the same environment key (recipe, the files it reads and the
  interpreter; :func:`ctworkflow.domain.repository.environments.key`);
- the **runner**: the same name.

Anything else (no complete session yet, no verified artifact for the component, a source file
missing) runs the agent. A project turns reuse off with the setting ``reuse_verified_tests:
false``; a reused component is still validated with the others, so what lands still passes.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ctworkflow import errors

#: The project setting that turns reuse off (``false``); on by default.
SETTING: Final = "reuse_verified_tests"


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What a component's verdict depends on, at one commit (None: absent or unknown)."""

    source_blob: str | None
    test_blob: str | None
    environment: str | None
    runner: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Earlier:
    """A component in the latest complete session of its context."""

    session_id: uuid.UUID
    facts: Facts
    #: The blob id of the verified test file it produced (None: it has no artifact).
    artifact_blob: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """Whether a component reuses an earlier verified test file, and why (one line)."""

    reuse: bool
    reason: str
    #: The session whose artifact it keeps (None: it runs).
    source_session: uuid.UUID | None = None


_UNCHANGED: Final = "source, test file, environment, runner"


def decide(now: Facts, earlier: Earlier | None) -> Decision:
    """Reuse or run, with the reason, for a component with ``now``'s facts at the new base."""
    if earlier is None:
        return Decision(reuse=False, reason="runs: no complete session yet")
    short = str(earlier.session_id)[:8]
    if earlier.artifact_blob is None:
        return Decision(reuse=False, reason=f"runs: no verified test file in session {short}")
    if now.source_blob is None:
        return Decision(reuse=False, reason="runs: no source file at the base")
    changed = changes(now, earlier)
    if changed:
        return Decision(reuse=False, reason=f"runs: {', '.join(changed)} changed since {short}")
    return Decision(
        reuse=True,
        reason=f"reused: unchanged since session {short} ({_UNCHANGED})",
        source_session=earlier.session_id,
    )


def changes(now: Facts, earlier: Earlier) -> list[str]:
    """Which of the four facts differ between now and the earlier session, in a fixed order."""
    then = earlier.facts
    test_same = now.test_blob in {then.test_blob, earlier.artifact_blob}
    differ = {
        "source": now.source_blob != then.source_blob,
        "test file": not test_same,
        "environment": now.environment != then.environment,
        "runner": now.runner != then.runner,
    }
    return [name for name, differs in differ.items() if differs]


def blob_id(content: str) -> str:
    """The git (SHA-1) blob id of a text, as ``git hash-object`` computes it."""
    data = content.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def check_setting(value: object) -> bool:
    """The ``reuse_verified_tests`` setting's value, checked.

    Raises:
        InvalidInput: it is not true or false.
    """
    if isinstance(value, bool):
        return value
    raise errors.InvalidInput(f"setting {SETTING} must be true or false, not {value!r}")


def enabled(settings: Mapping[str, Any], *, full: bool = False) -> bool:
    """Tell whether a session of a project with ``settings`` may reuse verified test files
    (``full``: the start asked for a full run)."""
    return not full and settings.get(SETTING, True) is not False
