"""The Claude Code and Aider presets of the command agent: what they run and refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctworkflow import errors
from ctworkflow.agents.base import AgentRequest
from ctworkflow.agents.command import CommandAgent
from ctworkflow.agents.presets import PRESETS, provider_entry
from ctworkflow.agents.registry import get_agent
from ctworkflow.config import get_settings
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.services import catalog
from ctworkflow.workers import preflight


def request(workspace: Path) -> AgentRequest:
    return AgentRequest(
        workspace=workspace,
        component_name="User",
        module_name="shop.user",
        source_path="shop/user.py",
        test_path="tests/test_user.py",
        layout=Layout.PYTHON,
    )


def test_claude_code_runs_non_interactive_with_file_tools_only_and_a_turn_limit() -> None:
    agent = get_agent("claude-code", {"agent_max_turns": 7, "agent_model": "claude-sonnet-4-5"})

    assert isinstance(agent, CommandAgent) and agent.name == "claude-code"
    argv = agent.argv_template
    assert argv[:2] == ("claude", "-p")
    assert argv[argv.index("--tools") + 1] == "Read,Write,Edit"
    assert argv[argv.index("--max-turns") + 1] == "7"
    assert argv[argv.index("--model") + 1] == "claude-sonnet-4-5"
    assert "ANTHROPIC_API_KEY" in agent.pass_env


def test_aider_edits_only_the_test_file_and_never_commits() -> None:
    agent = get_agent("aider", {"agent_program": "/opt/aider/bin/aider"})

    assert isinstance(agent, CommandAgent)
    argv = agent.argv_template
    assert argv[0] == "/opt/aider/bin/aider"
    assert argv[-3:] == ("--read", "{source_path}", "{test_path}")
    assert {"--no-git", "--no-auto-commits", "--yes-always"} <= set(argv)
    assert argv[argv.index("--message-file") + 1] == "{prompt_file}"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"agent_max_turns": 0}, "'agent_max_turns' must be a whole number from 1 to 1000"),
        ({"agent_max_turns": "30"}, "'agent_max_turns' must be a whole number"),
        ({"agent_program": "bin/claude"}, "'agent_program' must be an absolute path"),
        ({"agent_base_url": "localhost:8080"}, "'agent_base_url' must be an http(s) URL"),
        ({"agent_model": "a\nb"}, "'agent_model' must be a one-line text"),
    ],
)
def test_a_bad_preset_setting_is_refused_when_the_project_is_created(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        catalog.check_project_settings({"agent": "claude-code", **settings})

    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_an_unknown_preset_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(errors.InvalidInput, match="unknown agent 'claude': expected one of"):
        catalog.check_project_settings({"agent": "claude"})


def test_a_preset_whose_program_is_not_installed_fails_the_run_in_one_line(
    tmp_path: Path,
) -> None:
    agent = get_agent("aider", {"agent_program": str(tmp_path / "missing" / "aider")})

    result = agent.write_tests(request(tmp_path))

    assert not result.ok and result.permanent
    assert result.error is not None and "\n" not in result.error
    assert "pip install aider-chat" in result.error


def test_a_preset_program_under_tmp_is_refused_as_the_sandbox_hides_it(tmp_path: Path) -> None:
    if not tmp_path.is_relative_to("/tmp"):
        pytest.skip("the test folder is not under /tmp")
    program = tmp_path / "claude"
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    agent = get_agent("claude-code", {"agent_program": str(program)})

    result = agent.write_tests(request(tmp_path))

    assert not result.ok
    assert result.error == (
        f"agent claude-code: its program {program} is under /tmp, which the sandbox hides: "
        "install it outside /tmp"
    )


def test_a_worker_whose_default_preset_program_is_missing_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CTW_AGENT", "claude-code")
    monkeypatch.setenv("PATH", str(tmp_path))  # no claude there
    get_settings.cache_clear()

    problem = preflight.agent_problem(get_settings())

    assert problem == (
        "CTW_AGENT=claude-code: agent claude-code needs the program 'claude', which is not "
        "installed: npm install -g @anthropic-ai/claude-code (to a prefix outside /tmp), or "
        "set 'agent_program' to its path"
    )
    monkeypatch.setenv("CTW_AGENT", "scaffold")
    get_settings.cache_clear()
    assert preflight.agent_problem(get_settings()) is None


def test_a_preset_may_reach_its_model_provider_and_what_the_project_allows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    claude = PRESETS["claude-code"]
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    # The provider's own host, when nothing names another ...
    assert provider_entry(claude, None) == "api.anthropic.com"
    # ... the worker's base URL variable's host and port ...
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:8089/")
    assert provider_entry(claude, None) == "127.0.0.1:8089"
    # ... and the project's agent_base_url before it.
    assert provider_entry(claude, "https://llm.example.com/v1") == "llm.example.com:443"
    agent = get_agent("claude-code", {"network_allow": ["pypi.org"]})
    assert isinstance(agent, CommandAgent)
    assert agent.network_allow == ("127.0.0.1:8089", "pypi.org")
