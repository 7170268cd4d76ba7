"""The logging configuration: levels chosen from the settings, context on every line."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest

from ctworkflow import logs


@pytest.mark.parametrize(
    ("setting", "default", "requested", "expected"),
    [
        ("", logs.SERVICE_LEVEL, None, "INFO"),  # a worker as docs/deployment.md starts it
        ("", logs.SERVICE_LEVEL, logging.WARNING, "INFO"),  # Celery's default --loglevel
        ("", logs.COMMAND_LEVEL, None, "ERROR"),  # a ctw command: its output is its answer
        ("debug", logs.COMMAND_LEVEL, None, "DEBUG"),
        ("ERROR", logs.SERVICE_LEVEL, "WARNING", "WARNING"),  # a more verbose --loglevel wins
        ("INFO", logs.SERVICE_LEVEL, "DEBUG", "DEBUG"),
        ("INFO", logs.SERVICE_LEVEL, "ERROR", "INFO"),
    ],
)
def test_the_level_is_the_setting_unless_the_command_line_asks_for_more(
    setting: str, default: str, requested: str | int | None, expected: str
) -> None:
    assert logs.effective_level(setting, default=default, requested=requested) == expected


def test_unknown_levels_and_formats_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        logs.build_config("LOUD")
    with pytest.raises(ValueError, match="unknown log format 'xml'"):
        logs.build_config("INFO", "xml")


def _emit(fmt: str, **fields: object) -> str:
    """One line logged through our configuration (on a logger of its own, into a string)."""
    stream = io.StringIO()
    config = logs.build_config("INFO", fmt)
    del config["root"]  # leave the test runner's root logger alone
    config["handlers"]["stderr"]["stream"] = stream
    config["loggers"] = {
        "ctw-test-logs": {"level": "INFO", "handlers": ["stderr"], "propagate": False}
    }
    logging.config.dictConfig(config)
    try:
        logs.clear()
        logs.bind(**fields)
        logging.getLogger("ctw-test-logs").info("round %s ended", 2)
    finally:
        logs.clear()
        logging.getLogger("ctw-test-logs").handlers.clear()
    return stream.getvalue()


def test_json_lines_carry_the_bound_context() -> None:
    line = _emit("json", session_id="s-1", step="run", attempt=2, component="shop.user")

    record = json.loads(line)
    assert record["message"] == "round 2 ended"
    assert record["level"] == "INFO" and record["logger"] == "ctw-test-logs" and record["time"]
    assert {k: record[k] for k in ("session_id", "step", "attempt", "component")} == {
        "session_id": "s-1",
        "step": "run",
        "attempt": 2,
        "component": "shop.user",
    }
    assert "context" not in record


def test_text_lines_show_the_bound_context_and_none_when_unbound() -> None:
    assert "[session_id=s-1 step=run attempt=2] round 2 ended" in _emit(
        "text", session_id="s-1", step="run", attempt=2, component=None
    )
    assert "ctw-test-logs: round 2 ended" in _emit("text")


@pytest.mark.parametrize(
    ("setting", "expected"), [("warning", logging.WARNING), ("", logging.INFO)]
)
def test_configure_takes_the_level_from_ctw_log_level(
    monkeypatch: pytest.MonkeyPatch, setting: str, expected: int
) -> None:
    from ctworkflow.config import get_settings

    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    monkeypatch.setenv("CTW_LOG_LEVEL", setting)
    get_settings.cache_clear()
    try:
        chosen = logs.configure(get_settings(), default=logs.SERVICE_LEVEL)
        assert (chosen, root.level) == (logging.getLevelName(expected), expected)
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        logging.captureWarnings(False)
        get_settings.cache_clear()
