"""ctworkflow errors.

Every error the library raises derives from :class:`CtWorkflowError`; its docstring is its
default message, and errors that carry data expose it as typed attributes.

An error's ``args`` are exactly the arguments of its constructor, as text: Celery rebuilds an
error it carries (pickle, or its JSON exception format) by calling ``cls(*args)``, so a rebuilt
error keeps its message and its attributes (``tests/unit/test_errors.py``).

- CtWorkflowError
    - ConfigurationError        bad or missing settings
        - SandboxUnavailable    the configured sandbox cannot run on this host
    - InvalidInput              a caller handed us a value we refuse; nothing was written
        - InvalidName           empty, over-long or control characters
        - InvalidModuleName     not a module name of the project's layout
        - InvalidBranchName     a branch name git refuses, or a context name that gives none
        - UnknownLayout         not one of the supported repository layouts
        - InvalidLayout         the repository's configuration or files cannot be used as laid
                                out (a path outside it, a symlink out, a test path that is a
                                folder, a configuration file that does not parse)
        - NothingDiscovered     discovery found no context, and says why
        - InvalidRepository     malformed, carrying credentials, or no repository there
        - InvalidParent         a component made its own parent, or a parent from elsewhere
        - DuplicateComponent    the module name is already registered in the project
    - NotFound                  missing, or out of the caller's scope (told apart by no one)
        - AccountNotFound
        - ProjectNotFound
        - ComponentNotFound
        - SessionNotFound
        - TokenNotFound
        - WebhookNotFound
    - InvalidTransition         the state machine refused a status change (a bug or a race)
    - DatabaseError             the database refused a statement (a schema not migrated, say)
        - Conflict              a write lost a race with another one on a unique constraint
    - StepFailed                a step failed in a way another try cannot change
        - UnsafeFile            a link or a non-regular file where a test or source file goes
        - LimitExceeded         a file, an output or a report over its size limit
        - ForeignCommits        the branch holds commits ctworkflow did not make
        - GitRefused            the remote refused to move a branch
            - BranchExists          the branch to create is already there
            - RemoteMoved           the branch is not at the head its lease expects
        - ComponentFailure      a component cannot pass for a reason no round can change:
                                it fails once and no later round runs it again
            - SourceMissing         its source file is not in the repository at the base
            - SourceUnparsable      its source file does not parse
            - ModuleNotImportable   the module cannot be imported in the target's environment
            - ForbiddenWrite        the agent changed files outside the allowed set
            - EnvironmentUnavailable  the target's environment cannot be built (the
                                    installer's own reason, or its recipe is wrong)
    - TransientError            another try may succeed
        - CommandTimeout        a subprocess ran past its time limit
        - BrokerUnavailable     a message could not be published in time
        - GitError              a git command failed (a remote that cannot be reached, say)
        - DatabaseUnavailable   the database cannot be reached, or dropped the connection

**The retry rule** (:func:`is_transient`; ``tests/unit/test_errors.py`` pins it): a
:class:`TransientError` is worth another try, any other error is permanent.

* Celery retries a task that raises a transient error (``autoretry_for``).
* Initialize and finalize record a failure as their outcome: a transient one runs the step
  again while the session's attempts remain; a permanent one fails the session at once.
* Validation that cannot run the tests at all blames no test: the round fails and the next
  round runs while attempts remain.
* A component's round records every failure on its child; the next round (new work by the
  agent, told what failed) runs it again, unless the failure is a :class:`ComponentFailure`
  (:func:`no_round_can_fix`). Failing tests, lost tests, an agent that crashed or timed out
  can change with another try and get the rounds that remain.
"""

from __future__ import annotations

import uuid


class CtWorkflowError(Exception):
    """Unexpected ctworkflow error."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__)


class ConfigurationError(CtWorkflowError):
    """The settings are invalid."""


class SandboxUnavailable(ConfigurationError):
    """The configured sandbox cannot run on this host."""


class InvalidInput(CtWorkflowError):
    """Invalid input."""


class InvalidName(InvalidInput):
    """Invalid name."""


class InvalidModuleName(InvalidInput):
    """Invalid module name."""


class InvalidBranchName(InvalidInput):
    """Not a branch name git accepts, or nothing left of a name to build one from."""


class UnknownLayout(InvalidInput):
    """Unknown repository layout."""


class InvalidLayout(InvalidInput):
    """The repository's layout cannot be used as it is configured."""


class NothingDiscovered(InvalidInput):
    """Discovery found no context in the repository."""


class InvalidRepository(InvalidInput):
    """A repository address that is malformed, carries credentials, or holds no repository."""


class InvalidParent(InvalidInput):
    """Invalid parent component."""


class DuplicateComponent(InvalidInput):
    """A component with this module name already exists in the project."""


class NotFound(CtWorkflowError):
    """Not found."""

    kind = "object"

    def __init__(self, object_id: uuid.UUID | str) -> None:
        self.object_id = object_id
        super().__init__(str(object_id))

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} not found"


class AccountNotFound(NotFound):
    """No such account."""

    kind = "account"


class ProjectNotFound(NotFound):
    """No such project in this account."""

    kind = "project"


class ComponentNotFound(NotFound):
    """No such component in this project."""

    kind = "component"


class SessionNotFound(NotFound):
    """No such session in this project."""

    kind = "session"


class TokenNotFound(NotFound):
    """No such API token in this account."""

    kind = "token"


class WebhookNotFound(NotFound):
    """No such webhook in this project."""

    kind = "webhook"


class InvalidTransition(CtWorkflowError):
    """The session cannot move from its current status to the requested one."""

    def __init__(self, session_id: uuid.UUID | str | None, current: str, target: str) -> None:
        self.session_id = uuid.UUID(str(session_id)) if session_id is not None else None
        self.current = str(current)
        self.target = str(target)
        shown = str(self.session_id) if self.session_id is not None else None
        Exception.__init__(self, shown, self.current, self.target)

    def __str__(self) -> str:
        which = f"session {self.session_id}" if self.session_id is not None else "a session"
        return f"{which} cannot go from {self.current} to {self.target}"


class StepFailed(CtWorkflowError):
    """A workflow step failed permanently."""


class UnsafeFile(StepFailed):
    """A link or a non-regular file where a test or source file should be; refused."""


class LimitExceeded(StepFailed):
    """Something is over its size limit."""

    def __init__(self, what: str, size: int, limit: int, setting: str) -> None:
        self.what = what
        self.size = int(size)
        self.limit = int(limit)
        self.setting = setting
        Exception.__init__(self, what, self.size, self.limit, setting)

    def __str__(self) -> str:
        size, limit = format_bytes(self.size), format_bytes(self.limit)
        return f"{self.what} is {size}, over the limit of {limit} ({self.setting})"


def format_bytes(size: int) -> str:
    """A size as people read it: ``512 bytes``, ``1 MiB``, ``200.5 MiB``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


class ForeignCommits(StepFailed):
    """The branch holds commits ctworkflow did not make; it is not overwritten."""


class GitRefused(StepFailed):
    """The remote refused to move a branch."""


class BranchExists(GitRefused):
    """The branch already exists on the remote."""


class RemoteMoved(GitRefused):
    """The remote branch is not where the push expected it to be."""


class ComponentFailure(StepFailed):
    """A component cannot pass, and no further round can change that."""


class SourceMissing(ComponentFailure):
    """The component's source file is not in the repository."""


class SourceUnparsable(ComponentFailure):
    """The component's source file does not parse."""


class ModuleNotImportable(ComponentFailure):
    """The module cannot be imported in the target's environment."""


class ForbiddenWrite(ComponentFailure):
    """The agent changed files outside the ones it may change."""


class EnvironmentUnavailable(ComponentFailure):
    """The target's environment cannot be built."""


class DatabaseError(CtWorkflowError):
    """The database refused a statement."""


class Conflict(DatabaseError):
    """A write lost a race with another one: a row with the same unique key is there."""


def no_round_can_fix(error: BaseException) -> bool:
    """Tell whether a component's failure is one no later round can change."""
    return isinstance(error, ComponentFailure)


class TransientError(CtWorkflowError):
    """A temporary failure; the operation may be retried."""


class CommandTimeout(TransientError):
    """A command ran past its time limit."""


class BrokerUnavailable(TransientError):
    """The broker cannot be reached: the message was not sent."""


class GitError(TransientError):
    """A git command failed."""


class DatabaseUnavailable(TransientError):
    """The database cannot be reached, or dropped the connection."""


def is_transient(error: BaseException) -> bool:
    """Tell whether trying the same work again may succeed: the one rule of every retry."""
    return isinstance(error, TransientError)
