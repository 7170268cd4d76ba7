"""Reading what a coding agent's run used from what its program printed, and redacting it."""

from __future__ import annotations

import json

from ctworkflow.domain import agent_usage
from ctworkflow.domain.agent_usage import Usage


def claude_stream(result: dict[str, object]) -> str:
    lines = [
        {"type": "system", "subtype": "init", "tools": ["Read", "Write", "Edit"]},
        {"type": "assistant", "message": {"content": [{"type": "text", "text": "Done."}]}},
        {"type": "result", **result},
    ]
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def test_claude_codes_result_gives_tokens_cost_and_turns() -> None:
    stdout = claude_stream(
        {
            "subtype": "success",
            "num_turns": 3,
            "total_cost_usd": 0.0187,
            "usage": {
                "input_tokens": 3000,
                "cache_creation_input_tokens": 200,
                "cache_read_input_tokens": 100,
                "output_tokens": 150,
            },
        }
    )

    assert agent_usage.from_claude(stdout) == Usage(
        input_tokens=3300, output_tokens=150, cost_usd=0.0187, turns=3
    )


def test_claude_code_output_without_a_result_reports_no_usage() -> None:
    assert agent_usage.from_claude('{"type": "system"}\nnot json\n') is None
    assert agent_usage.from_claude("") is None


def test_a_result_field_of_the_wrong_type_is_unknown_not_an_error() -> None:
    stdout = claude_stream({"num_turns": "3", "total_cost_usd": True, "usage": []})

    assert agent_usage.from_claude(stdout) == Usage()


def test_aiders_token_lines_are_summed_and_its_last_session_cost_kept() -> None:
    stdout = (
        "Tokens: 1.2k sent, 50 received. Cost: $0.0040 message, $0.0040 session.\n"
        "Applied edit to tests/test_x.py\n"
        "Tokens: 2.5k sent, 1.1k cache write, 300 cache hit, 1.5k received. "
        "Cost: $0.0100 message, $0.0140 session.\n"
    )

    assert agent_usage.from_aider(stdout) == Usage(
        input_tokens=3700, output_tokens=1550, cost_usd=0.014, turns=2
    )


def test_aider_without_a_known_price_reports_tokens_only() -> None:
    usage = agent_usage.from_aider("Tokens: 700 sent, 30 received.\n")

    assert usage == Usage(input_tokens=700, output_tokens=30, cost_usd=None, turns=1)
    assert agent_usage.from_aider("Aider v0.86.2\n") is None


def test_a_session_total_sums_what_its_runs_reported() -> None:
    runs = [
        Usage(input_tokens=10, output_tokens=1, cost_usd=0.5, turns=2, wall_s=1.5),
        Usage(input_tokens=5, cost_usd=None, wall_s=2.0),
        Usage(),
    ]

    assert agent_usage.total(runs) == Usage(
        input_tokens=15, output_tokens=1, cost_usd=0.5, turns=2, wall_s=3.5
    )
    assert agent_usage.total([]) == Usage()
    assert Usage.from_json(agent_usage.total(runs).to_json()) == agent_usage.total(runs)


def test_the_values_of_secret_variables_are_redacted_from_a_transcript() -> None:
    env = {
        "ANTHROPIC_API_KEY": "sk-ant-secret-1",
        "GITHUB_TOKEN": "ghp-secret-2",
        "PATH": "/usr/bin",
        "SHORT_KEY": "abc",  # too short to be told from ordinary words
    }
    secrets = agent_usage.secret_values(env)

    text = agent_usage.transcript(
        "using sk-ant-secret-1 on /usr/bin\n", "auth ghp-secret-2 failed\n", secrets
    )

    assert "sk-ant-secret-1" not in text and "ghp-secret-2" not in text
    assert text.count(agent_usage.REDACTED) == 2
    assert "/usr/bin" in text and "--- stderr ---" in text
    assert set(secrets) == {"sk-ant-secret-1", "ghp-secret-2"}


def test_a_transcript_keeps_its_last_part_only() -> None:
    stdout = "x" * agent_usage.MAX_TRANSCRIPT_CHARS + "the end\n"

    text = agent_usage.transcript(stdout, "", ())

    assert text.startswith("[... cut ...]\n") and text.endswith("the end\n")
    assert len(text) <= agent_usage.MAX_TRANSCRIPT_CHARS + len("[... cut ...]\n")


def test_the_reason_a_program_gives_for_a_failed_run_is_one_line() -> None:
    failed = claude_stream(
        {"subtype": "success", "is_error": True, "result": "API Error: Failed to parse JSON\nmore"}
    )
    turns = claude_stream({"subtype": "error_max_turns", "is_error": True})
    aider = "Tokens: 1k sent, 5 received.\nlitellm.APIError: APIError: bad gateway\nRetrying.\n"

    assert agent_usage.claude_error(failed) == "API Error: Failed to parse JSON"
    assert agent_usage.claude_error(turns) == "error_max_turns"
    assert agent_usage.claude_error(claude_stream({"subtype": "success"})) is None
    assert agent_usage.aider_error(aider) == "litellm.APIError: APIError: bad gateway"
    assert agent_usage.aider_error("Applied edit to tests/test_x.py\n") is None
