"""Ready-made ``command`` agents for real coding agent programs: Claude Code and Aider.

A preset says how its program runs without a person: the argv (non-interactive, the prompt
from the prompt file, edits to the test file only where the program allows it, no commit, no
web tools, a turn limit), the variables of the worker's environment it is handed (its key and
base URL; their values are never stored: they are redacted from what it printed), a home of
its own inside the sandbox for its config and caches, and how its output is read
(:mod:`ctworkflow.domain.agent_usage`). The project's settings choose the model, the turn
limit, the base URL and the program's path (``agent_model``, ``agent_max_turns``,
``agent_base_url``, ``agent_program``). See docs/agents.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from ctworkflow import errors
from ctworkflow.domain import agent_usage, budgets
from ctworkflow.domain.agent_usage import Usage

DEFAULT_MAX_TURNS: Final = 30
_MAX_TURNS_LIMIT: Final = 1000
#: Claude Code's tools a run may use: reading and editing files, no shell, no web.
CLAUDE_TOOLS: Final = "Read,Write,Edit"


@dataclass(frozen=True, slots=True, kw_only=True)
class PresetSettings:
    """The project settings a preset reads."""

    model: str | None = None
    max_turns: int = DEFAULT_MAX_TURNS
    base_url: str | None = None
    program: str | None = None
    #: The most one run may cost, where the program enforces it (``budget_per_component_usd``).
    run_budget_usd: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Preset:
    """One coding agent program and how to run it."""

    name: str
    #: The program's name on the worker's ``PATH`` (``agent_program`` overrides it).
    program: str
    #: How to install the program, in one line.
    install: str
    #: The worker's variables the program is handed if they are set.
    pass_env: tuple[str, ...]
    #: The variable that carries ``agent_base_url``.
    base_url_env: str
    #: The model provider's host the run may reach when no base URL names another.
    provider: str
    #: The argv after the program, with the command agent's placeholders.
    arguments: Callable[[PresetSettings], list[str]]
    #: Variables set for the run, given its home folder.
    env: Callable[[Path], dict[str, str]] = field(default=lambda home: {})
    read_usage: Callable[[str], Usage | None] = field(default=lambda stdout: None)
    #: Why the program says its run failed, from its standard output.
    read_error: Callable[[str], str | None] = field(default=lambda stdout: None)
    #: Whether the prompt is given on standard input (else only as ``{prompt_file}``).
    prompt_on_stdin: bool = False


def _claude_arguments(settings: PresetSettings) -> list[str]:
    model = ["--model", settings.model] if settings.model else []
    budget = []
    if settings.run_budget_usd is not None:
        budget = ["--max-budget-usd", f"{settings.run_budget_usd:g}"]
    return [
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--tools",
        CLAUDE_TOOLS,
        "--allowedTools",
        CLAUDE_TOOLS,
        "--permission-mode",
        "acceptEdits",
        "--max-turns",
        str(settings.max_turns),
        # Neither the repository's .claude/settings.json (hooks, permissions) nor its .mcp.json.
        "--setting-sources",
        "user",
        "--strict-mcp-config",
        "--no-session-persistence",
        *model,
        *budget,
    ]


def _claude_env(home: Path) -> dict[str, str]:
    return {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1"}


def _aider_arguments(settings: PresetSettings) -> list[str]:
    model = ["--model", settings.model] if settings.model else []
    return [
        "--message-file",
        "{prompt_file}",
        "--yes-always",
        "--no-git",  # never a commit, never a git identity written to the read-only mirror
        "--no-auto-commits",
        "--no-auto-lint",
        "--no-auto-test",
        "--no-check-update",
        "--no-show-release-notes",
        "--no-show-model-warnings",
        "--analytics-disable",
        "--no-pretty",
        "--no-stream",
        "--map-tokens",
        "0",
        *model,
        "--read",
        "{source_path}",
        "{test_path}",
    ]


def _aider_env(home: Path) -> dict[str, str]:
    # Its history files go to its own home, not the workspace (which only the test may change).
    return {
        "AIDER_CHAT_HISTORY_FILE": str(home / "aider.chat.history.md"),
        "AIDER_INPUT_HISTORY_FILE": str(home / "aider.input.history"),
        # litellm fetches a price list from the internet unless told to use its own copy.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }


PRESETS: Final[Mapping[str, Preset]] = {
    "claude-code": Preset(
        name="claude-code",
        program="claude",
        install="npm install -g @anthropic-ai/claude-code (to a prefix outside /tmp)",
        pass_env=("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"),
        base_url_env="ANTHROPIC_BASE_URL",
        provider="api.anthropic.com",
        arguments=_claude_arguments,
        env=_claude_env,
        read_usage=agent_usage.from_claude,
        read_error=agent_usage.claude_error,
        prompt_on_stdin=True,
    ),
    "aider": Preset(
        name="aider",
        program="aider",
        install="pip install aider-chat (into a virtual environment outside /tmp)",
        pass_env=("OPENAI_API_KEY", "OPENAI_API_BASE", "ANTHROPIC_API_KEY"),
        base_url_env="OPENAI_API_BASE",
        provider="api.openai.com",
        arguments=_aider_arguments,
        env=_aider_env,
        read_usage=agent_usage.from_aider,
        read_error=agent_usage.aider_error,
    ),
}


def preset_settings(settings: Mapping[str, Any]) -> PresetSettings:
    """The preset settings of a project, or raise InvalidInput naming the bad one."""
    model = _text(settings, "agent_model")
    program = _text(settings, "agent_program")
    if program is not None and not program.startswith("/"):
        raise errors.InvalidInput("the setting 'agent_program' must be an absolute path")
    base_url = _text(settings, "agent_base_url")
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise errors.InvalidInput("the setting 'agent_base_url' must be an http(s) URL")
    turns = settings.get("agent_max_turns", DEFAULT_MAX_TURNS)
    if isinstance(turns, bool) or not isinstance(turns, int) or not 0 < turns <= _MAX_TURNS_LIMIT:
        raise errors.InvalidInput(
            f"the setting 'agent_max_turns' must be a whole number from 1 to {_MAX_TURNS_LIMIT}"
        )
    return PresetSettings(
        model=model,
        max_turns=turns,
        base_url=base_url,
        program=program,
        run_budget_usd=budgets.budget(settings, budgets.COMPONENT_BUDGET),
    )


def _text(settings: Mapping[str, Any], name: str) -> str | None:
    value = settings.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or "\n" in value or len(value) > 1000:
        raise errors.InvalidInput(f"the setting {name!r} must be a one-line text")
    return value


def provider_entry(preset: Preset, base_url: str | None) -> str:
    """The network allow-list entry of the model provider a preset's run talks to: the host
    (and port) of ``agent_base_url``, else of the worker's own base URL variable, else the
    preset's provider."""
    url = base_url or os.environ.get(preset.base_url_env)
    if not url:
        return preset.provider
    parts = urlsplit(url)
    if parts.hostname is None:
        raise errors.InvalidInput(f"the base URL {url!r} names no host")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{host}:{port}"
