"""Logging of every ctworkflow process: one ``dictConfig`` built here, applied by entry points.

Library modules only log (``logging.getLogger(__name__)``); the entry points configure: the
workers and beat through Celery's ``setup_logging`` signal (``ctworkflow.tasks.signals``), the
``ctw`` program in ``ctworkflow.cli.main``, the HTTP server where it starts. They all call
:func:`configure`, or hand :func:`build_config` to a server that takes a logging dict.

Settings: ``CTW_LOG_LEVEL`` (empty: INFO for workers, beat and the server, ERROR for other
``ctw`` commands, whose output is their answer) and ``CTW_LOG_FORMAT`` (``text`` or ``json``:
one JSON object per line). A worker or beat started with a more verbose ``--loglevel`` than
``CTW_LOG_LEVEL`` logs at that level.

Every line carries what is known of the work in hand: ``session_id``, ``step``, ``attempt``,
``component`` (the module under test), ``parent_session_id``, ``task_id`` and ``task``, bound
per task by the worker hooks (:func:`bind`) and added to each record by :class:`ContextFilter`.
"""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, Final, Protocol

LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS: Final = ("text", "json")
#: Context fields, in the order the text format shows them.
FIELDS: Final = (
    "session_id",
    "step",
    "attempt",
    "component",
    "parent_session_id",
    "task_id",
    "task",
)
#: Levels when ``CTW_LOG_LEVEL`` is empty: services report their work, commands answer.
SERVICE_LEVEL: Final = "INFO"
COMMAND_LEVEL: Final = "ERROR"

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(processName)s %(name)s:%(context)s %(message)s"


class LogSettings(Protocol):
    """What logging reads of the settings (``ctworkflow.config.Settings`` has both)."""

    @property
    def log_level(self) -> str: ...

    @property
    def log_format(self) -> str: ...


_context: ContextVar[Mapping[str, object]] = ContextVar(
    "ctworkflow_log_context", default=MappingProxyType({})
)


def bind(**fields: object) -> None:
    """Add fields to the log context of the work in hand (``None`` values are left out)."""
    _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})


def clear() -> None:
    """Forget the log context (a task ended)."""
    _context.set(MappingProxyType({}))


def current() -> Mapping[str, object]:
    """The fields bound now."""
    return _context.get()


class ContextFilter(logging.Filter):
    """Puts the bound context on every record: as attributes, and as ``context`` text."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _context.get()
        for name, value in fields.items():
            if not hasattr(record, name):
                setattr(record, name, value)
        shown = [(n, getattr(record, n, None)) for n in FIELDS if n not in ("task", "task_id")]
        text = " ".join(f"{n}={v}" for n, v in shown if v is not None)
        record.context = f" [{text}]" if text else ""
        return True


def level_name(value: str | int | None) -> str | None:
    """A level given as a name or a number (Celery passes either), as its name."""
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, int):
        return logging.getLevelName(value)
    return value.upper()


def effective_level(setting: str, *, default: str, requested: str | int | None = None) -> str:
    """``CTW_LOG_LEVEL`` (or ``default``), unless ``requested`` is more verbose."""
    chosen = setting.upper() if setting else default
    asked = level_name(requested)
    if asked in LEVELS and logging.getLevelName(asked) < logging.getLevelName(chosen):
        return asked
    return chosen


def build_config(level: str, fmt: str = "text") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` document: one stderr handler on the root logger."""
    if level not in LEVELS:
        raise ValueError(f"unknown log level {level!r}: expected one of {', '.join(LEVELS)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r}: expected text or json")
    return {
        "version": 1,
        # Loggers made before this call (Celery's, ours) keep working and reach the handler.
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {
            "text": {"format": TEXT_FORMAT},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": ["levelname", "name", "processName", "message"],
                "rename_fields": {"levelname": "level", "name": "logger", "processName": "process"},
                "timestamp": "time",
                "reserved_attrs": [*_reserved_attrs(), "context"],
            },
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": fmt,
                "filters": ["context"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
    }


def _reserved_attrs() -> list[str]:
    from pythonjsonlogger.core import RESERVED_ATTRS

    return list(RESERVED_ATTRS)


def configure(settings: LogSettings, *, default: str, requested: str | int | None = None) -> str:
    """Configure logging from ``settings``; return the level in force.

    The caller passes the settings, so this module imports no ``ctworkflow.config`` (which
    imports it for the names of the levels and formats). ``default`` is the level of this
    kind of process when ``CTW_LOG_LEVEL`` is empty (:data:`SERVICE_LEVEL` or
    :data:`COMMAND_LEVEL`); ``requested`` a level its own command line asked for (Celery's
    ``--loglevel``).
    """
    level = effective_level(settings.log_level, default=default, requested=requested)
    logging.config.dictConfig(build_config(level, settings.log_format))
    logging.captureWarnings(True)  # warnings become log lines too (one JSON object each)
    return level
