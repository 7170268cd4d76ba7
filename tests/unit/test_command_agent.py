"""The command agent: a real external program writes the test file from a prompt file."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ctworkflow import errors
from ctworkflow.agents.base import AgentRequest
from ctworkflow.agents.command import CommandAgent
from ctworkflow.agents.registry import get_agent
from ctworkflow.agents.scaffold import ScaffoldAgent
from ctworkflow.domain.repository.layouts import Layout
from tests.sandbox_support import gone_within, new_marker, processes_with

WRITING_AGENT = """\
import json
import os
import sys
from pathlib import Path

prompt_file, module, test_path, workspace, report = sys.argv[1:6]
prompt = Path(prompt_file).read_text(encoding="utf-8")
if module not in prompt or test_path not in prompt:
    sys.exit("the prompt does not name the module and the test file")
Path(report).write_text(
    json.dumps({"prompt_file": prompt_file, "prompt": prompt, "cwd": os.getcwd(),
                "env": dict(os.environ)}),
    encoding="utf-8",
)
target = Path(workspace) / test_path
target.parent.mkdir(parents=True, exist_ok=True)
target.write_text("def test_generated():\\n    assert True\\n", encoding="utf-8")
print("wrote", test_path)
"""

# Its child carries the marker it is given, so the test finds it from outside the sandbox.
SPAWNING_SLEEPER = """\
import subprocess
import sys
import time

child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", sys.argv[1]])
while True:
    time.sleep(1)
"""


def script(tmp_path: Path, name: str, source: str) -> Path:
    """Write an agent program outside the workspace and return its path."""
    path = tmp_path / "bin" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace with the source of pkg.mod."""
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").touch()
    (root / "pkg" / "mod.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    return root


def request_for(workspace: Path, **kwargs: object) -> AgentRequest:
    """Return the request to test pkg.mod in workspace."""
    fields: dict[str, object] = {
        "workspace": workspace,
        "component_name": "Mod",
        "module_name": "pkg.mod",
        "source_path": "pkg/mod.py",
        "test_path": "tests/test_mod.py",
        "layout": Layout.PYTHON,
    }
    fields.update(kwargs)
    return AgentRequest(**fields)  # type: ignore[arg-type]


def writing_agent(tmp_path: Path) -> tuple[CommandAgent, Path]:
    """Return an agent that writes the test file, and where it reports what it saw."""
    program = script(tmp_path, "agent.py", WRITING_AGENT)
    report = tmp_path / "seen.json"
    agent = CommandAgent(
        [
            sys.executable,
            str(program),
            "{prompt_file}",
            "{module}",
            "{test_path}",
            "{workspace}",
            str(report),
        ]
    )
    return agent, report


def test_an_agent_that_writes_the_test_file_succeeds(tmp_path: Path, workspace: Path) -> None:
    agent, report = writing_agent(tmp_path)

    result = agent.write_tests(request_for(workspace))

    assert result.ok, (result.error, result.stderr_tail)
    assert result.error is None
    assert result.exit_code == 0
    assert result.argv is not None
    assert result.argv[2:6] == (
        json.loads(report.read_text(encoding="utf-8"))["prompt_file"],
        "pkg.mod",
        "tests/test_mod.py",
        str(workspace),
    )
    assert result.stdout_tail == "wrote tests/test_mod.py"
    assert result.duration_s > 0
    assert (workspace / "tests" / "test_mod.py").is_file()


def test_the_prompt_file_lives_outside_the_workspace_and_is_removed(
    tmp_path: Path, workspace: Path
) -> None:
    agent, report = writing_agent(tmp_path)

    agent.write_tests(request_for(workspace))

    seen = json.loads(report.read_text(encoding="utf-8"))
    prompt_file = Path(seen["prompt_file"])
    assert not prompt_file.is_relative_to(workspace)
    assert not prompt_file.exists()
    assert not prompt_file.parent.exists()
    assert seen["env"]["AGENT_PROMPT_FILE"] == str(prompt_file)
    assert Path(seen["cwd"]) == workspace


def test_the_prompt_says_what_to_test_and_what_may_change(tmp_path: Path, workspace: Path) -> None:
    agent, report = writing_agent(tmp_path)

    agent.write_tests(request_for(workspace))

    prompt = json.loads(report.read_text(encoding="utf-8"))["prompt"]
    assert "'Mod'" in prompt
    assert "module pkg.mod" in prompt
    assert "Its source is in pkg/mod.py." in prompt
    assert "Write the tests to tests/test_mod.py." in prompt
    assert "Change only that test file, plus support files under tests/" in prompt
    assert "docs/design" not in prompt
    assert "previous attempt" not in prompt


def test_the_prompt_points_at_the_design_document_when_there_is_one(
    tmp_path: Path, workspace: Path
) -> None:
    (workspace / "docs" / "design").mkdir(parents=True)
    (workspace / "docs" / "design" / "pkg.mod.md").write_text("# Mod\n", encoding="utf-8")
    agent, report = writing_agent(tmp_path)

    agent.write_tests(request_for(workspace))

    prompt = json.loads(report.read_text(encoding="utf-8"))["prompt"]
    assert "Its design is described in docs/design/pkg.mod.md." in prompt


def test_the_feedback_of_a_previous_round_appears_in_the_prompt(
    tmp_path: Path, workspace: Path
) -> None:
    agent, report = writing_agent(tmp_path)
    feedback = "tests/test_mod.py::test_f FAILED\nAssertionError: assert 2 == 1"

    result = agent.write_tests(request_for(workspace, feedback=feedback))

    assert result.ok
    prompt = json.loads(report.read_text(encoding="utf-8"))["prompt"]
    assert "The previous attempt failed. Its output was:" in prompt
    assert feedback in prompt


def test_the_agent_sees_no_ctw_variables(
    tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTW_DATABASE_URL", "postgresql://secret@db/ctw")
    agent, report = writing_agent(tmp_path)

    assert agent.write_tests(request_for(workspace)).ok

    env = json.loads(report.read_text(encoding="utf-8"))["env"]
    assert not [name for name in env if name.startswith("CTW_")]
    assert "postgresql://secret@db/ctw" not in json.dumps(env)


def test_only_the_variables_named_in_agent_env_are_passed_on(
    tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "key-for-the-agent")
    monkeypatch.setenv("OTHER_SECRET", "not-for-the-agent")
    program = script(tmp_path, "agent.py", WRITING_AGENT)
    report = tmp_path / "seen.json"
    argv = [sys.executable, str(program), "{prompt_file}", "{module}", "{test_path}"]
    agent = get_agent(
        "command",
        {"agent_argv": [*argv, "{workspace}", str(report)], "agent_env": ["ANTHROPIC_API_KEY"]},
    )

    assert agent.write_tests(request_for(workspace)).ok

    env = json.loads(report.read_text(encoding="utf-8"))["env"]
    assert env["ANTHROPIC_API_KEY"] == "key-for-the-agent"
    assert "OTHER_SECRET" not in env


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("ANTHROPIC_API_KEY", "the setting 'agent_env' must be a list of variable names"),
        (["BAD NAME"], "agent_env entry 'BAD NAME' is not a variable name"),
        (["CTW_DATABASE_URL"], "agent_env entry 'CTW_DATABASE_URL': CTW_* settings stay private"),
    ],
)
def test_malformed_agent_env_settings_are_refused(names: object, message: str) -> None:
    with pytest.raises(errors.InvalidInput) as raised:
        get_agent("command", {"agent_argv": ["true"], "agent_env": names})
    assert str(raised.value) == message


def test_an_agent_past_its_time_limit_is_killed_with_its_children(
    tmp_path: Path, workspace: Path
) -> None:
    marker = new_marker()
    program = script(tmp_path, "sleeper.py", SPAWNING_SLEEPER)
    agent = CommandAgent([sys.executable, str(program), marker], timeout_s=2)
    seen: list[int] = []

    def watch() -> bool:  # asked while the agent runs: note its processes
        seen.extend(p for p in processes_with(marker) if p not in seen)
        return False

    result = agent.write_tests(request_for(workspace, timeout_s=600, should_stop=watch))

    assert not result.ok
    assert result.error == "agent timed out after 2 s"
    assert seen, "the agent's processes were never seen running"
    assert gone_within(marker, 10)


def test_the_request_time_limit_applies_when_the_agent_has_none(
    tmp_path: Path, workspace: Path
) -> None:
    program = script(tmp_path, "sleeper.py", SPAWNING_SLEEPER)
    agent = CommandAgent([sys.executable, str(program), new_marker()])

    started = time.monotonic()
    result = agent.write_tests(request_for(workspace, timeout_s=1.5))

    assert result.error == "agent timed out after 1.5 s"
    assert time.monotonic() - started < 30


def test_a_stop_request_ends_the_agent(tmp_path: Path, workspace: Path) -> None:
    program = script(tmp_path, "sleeper.py", SPAWNING_SLEEPER)
    agent = CommandAgent([sys.executable, str(program), new_marker()])

    result = agent.write_tests(request_for(workspace, should_stop=lambda: True))

    assert not result.ok
    assert result.error == "agent stopped: session cancelled"


def test_a_non_zero_exit_is_reported_with_its_output(tmp_path: Path, workspace: Path) -> None:
    program = script(
        tmp_path, "fails.py", "import sys\nprint('thinking')\nsys.exit('model unavailable')\n"
    )
    agent = CommandAgent([sys.executable, str(program)])

    result = agent.write_tests(request_for(workspace))

    assert not result.ok
    assert result.exit_code == 1
    assert result.error == "agent exited with status 1"
    assert result.stdout_tail == "thinking"
    assert result.stderr_tail == "model unavailable"


def test_a_missing_program_is_reported_as_status_127(workspace: Path) -> None:
    agent = CommandAgent(["/nonexistent/agent-cli", "{prompt_file}"])

    result = agent.write_tests(request_for(workspace))

    assert not result.ok
    assert result.exit_code == 127
    assert result.error == "agent exited with status 127"


def test_an_agent_that_exits_cleanly_without_writing_the_file_fails(
    tmp_path: Path, workspace: Path
) -> None:
    program = script(tmp_path, "lazy.py", "print('done, trust me')\n")
    agent = CommandAgent([sys.executable, str(program)])

    result = agent.write_tests(request_for(workspace))

    assert not result.ok
    assert result.exit_code == 0
    assert result.error == "agent did not write tests/test_mod.py"


@pytest.mark.parametrize(
    ("template", "placeholder"),
    [
        (["agent", "--token={secret}"], "{secret}"),
        (["agent", "{}"], "{}"),
        (["agent", "{workspace.parent}"], "{workspace.parent}"),
        (["agent", "{module:{secret}}"], "{secret}"),
    ],
)
def test_an_unknown_placeholder_is_refused_at_construction(
    template: list[str], placeholder: str
) -> None:
    with pytest.raises(errors.InvalidInput, match="unknown placeholder") as excinfo:
        CommandAgent(template)
    assert placeholder in str(excinfo.value)


@pytest.mark.parametrize("template", [[], ["agent", "{module"], ["agent", "module}"]])
def test_an_empty_or_malformed_template_is_refused(template: list[str]) -> None:
    with pytest.raises(errors.InvalidInput):
        CommandAgent(template)


def test_the_registry_builds_the_scaffold_agent() -> None:
    agent = get_agent("scaffold", {})

    assert isinstance(agent, ScaffoldAgent)
    assert agent.name == "scaffold"


def test_the_registry_builds_a_command_agent_from_the_settings() -> None:
    agent = get_agent(
        "command", {"agent_argv": ["claude", "-p", "{prompt_file}"], "agent_timeout_s": 60}
    )

    assert isinstance(agent, CommandAgent)
    assert agent.name == "command"
    assert agent.argv_template == ("claude", "-p", "{prompt_file}")
    assert agent.timeout_s == 60.0


def test_the_registry_needs_agent_argv_for_a_command_agent() -> None:
    with pytest.raises(errors.InvalidInput, match="agent_argv"):
        get_agent("command", {})


@pytest.mark.parametrize(
    "settings",
    [
        {"agent_argv": "claude -p"},
        {"agent_argv": ["claude", 3]},
        {"agent_argv": ["claude"], "agent_timeout_s": 0},
        {"agent_argv": ["claude"], "agent_timeout_s": True},
    ],
)
def test_the_registry_refuses_malformed_command_settings(settings: dict[str, object]) -> None:
    with pytest.raises(errors.InvalidInput):
        get_agent("command", settings)


def test_the_registry_refuses_an_unknown_agent() -> None:
    with pytest.raises(errors.InvalidInput) as excinfo:
        get_agent("x", {})
    assert (
        str(excinfo.value)
        == "unknown agent 'x': expected one of aider, claude-code, command, pynguin, scaffold"
    )
