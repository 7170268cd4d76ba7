"""SQLAlchemy's errors turned into ctworkflow's, at the edge of persistence.

Nothing above :mod:`ctworkflow.persistence` names SQLAlchemy (an import contract in
``pyproject.toml`` says so); what it sees of a database failure is one of ours, with
SQLAlchemy's error as its ``__cause__``:

- :class:`~ctworkflow.errors.DatabaseUnavailable` (transient): the server cannot be reached,
  went away, or dropped the connection;
- :class:`~ctworkflow.errors.Conflict`: a write lost a race on a unique constraint;
- :class:`~ctworkflow.errors.DatabaseError`: any other statement the database refused (a schema
  not migrated, say).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from ctworkflow import errors


def translate(error: sa_exc.SQLAlchemyError) -> errors.CtWorkflowError:
    """The error of ours that ``error`` means."""
    reason = _one_line(getattr(error, "orig", None) or error)
    if isinstance(error, sa_exc.IntegrityError):
        return errors.Conflict(reason)
    if isinstance(
        error, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.DisconnectionError
    ) or (isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated):
        return errors.DatabaseUnavailable(reason)
    return errors.DatabaseError(reason)


@contextmanager
def translated() -> Iterator[None]:
    """Raise SQLAlchemy's errors of the block as ours (:func:`translate`)."""
    try:
        yield
    except sa_exc.SQLAlchemyError as error:
        if isinstance(error, errors.CtWorkflowError):  # translated already, by an inner block
            raise
        raise translate(error) from error


@contextmanager
def savepoint(db: orm.Session) -> Iterator[None]:
    """Run the block in a savepoint: a unique race in it undoes only the block, and is raised
    as :class:`~ctworkflow.errors.Conflict` (the transaction goes on)."""
    try:
        with db.begin_nested():
            yield
    except sa_exc.IntegrityError as error:
        raise errors.Conflict(_one_line(error.orig or error)) from error


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
