"""What a coding agent's run used (tokens, cost, turns), read from what its program printed.

Claude Code prints a ``result`` document (``--output-format json`` or the last line of
``stream-json``); Aider prints a ``Tokens: 1.2k sent, 50 received. Cost: $0.01 message,
$0.02 session.`` line per model call. A run's usage is stored with its agent step
(``usage`` in the step's outcome data) and summed per session by :func:`total`.

Also here: :func:`redact`, which takes the values of the secrets an agent was handed out of
anything it printed before that is stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: A transcript kept per agent run: its last characters.
MAX_TRANSCRIPT_CHARS = 32_000
REDACTED = "[redacted]"
#: Variables whose values are secrets: never stored, whatever the agent printed.
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
#: Shorter values are not taken for secrets (they would redact common words).
_MIN_SECRET_CHARS = 6
_AIDER_TOKENS = re.compile(
    r"Tokens: ([\d.]+)([km]?) sent(?:, ([\d.]+)([km]?) cache \w+)*, ([\d.]+)([km]?) received\."
    r"(?: Cost: \$([\d.]+) message, \$([\d.]+) session\.)?"
)
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000}


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """What one run (or a session, summed) used; None: the program did not say."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    turns: int | None = None
    #: How long the agent's program ran, in seconds.
    wall_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The usage as a JSON document."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "turns": self.turns,
            "wall_s": self.wall_s,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Usage:
        """Read :meth:`to_json`'s output back; a field of the wrong type is taken as unknown."""
        return cls(
            input_tokens=_int(data.get("input_tokens")),
            output_tokens=_int(data.get("output_tokens")),
            cost_usd=_float(data.get("cost_usd")),
            turns=_int(data.get("turns")),
            wall_s=_float(data.get("wall_s")),
        )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def claude_result(stdout: str) -> dict[str, Any] | None:
    """Claude Code's ``result`` document: the last line of its output that is one."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and document.get("type") == "result":
            return document
    return None


def from_claude(stdout: str) -> Usage | None:
    """The usage Claude Code reported, or None if it printed no result."""
    result = claude_result(stdout)
    if result is None:
        return None
    usage = result.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    inputs = [
        _int(usage.get(name))
        for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    ]
    known = [n for n in inputs if n is not None]
    return Usage(
        input_tokens=sum(known) if known else None,
        output_tokens=_int(usage.get("output_tokens")),
        cost_usd=_float(result.get("total_cost_usd")),
        turns=_int(result.get("num_turns")),
    )


def claude_error(stdout: str) -> str | None:
    """Why Claude Code says its run failed (its result's text or kind), or None."""
    result = claude_result(stdout)
    if result is None or not (result.get("is_error") or result.get("subtype") != "success"):
        return None
    text = result.get("result")
    if isinstance(text, str) and text.strip():
        return _one_line(text)
    return _one_line(str(result.get("subtype") or "error"))


def aider_error(stdout: str) -> str | None:
    """The last error Aider printed (a failed model call, say), or None."""
    for line in reversed(stdout.splitlines()):
        if "Error:" in line or "Exception" in line:
            return _one_line(line)
    return None


def _one_line(text: str, limit: int = 300) -> str:
    first = (text.strip().splitlines() or [""])[0].strip()
    return first if len(first) <= limit else first[: limit - 3] + "..."


def _count(number: str, scale: str) -> int:
    return round(float(number) * _SCALE[scale])


def from_aider(stdout: str) -> Usage | None:
    """The usage Aider reported (its token lines summed; the session cost of its last), or
    None if it printed none."""
    matches = list(_AIDER_TOKENS.finditer(stdout))
    if not matches:
        return None
    last_cost = matches[-1].group(8)
    return Usage(
        input_tokens=sum(_count(m.group(1), m.group(2)) for m in matches),
        output_tokens=sum(_count(m.group(5), m.group(6)) for m in matches),
        cost_usd=float(last_cost) if last_cost is not None else None,
        turns=len(matches),
    )


def _sum(values: Iterable[float | int | None]) -> float | int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def total(usages: Iterable[Usage]) -> Usage:
    """The sum of several runs' usage; a field none of them reported stays None."""
    runs = list(usages)
    inputs = _sum(u.input_tokens for u in runs)
    outputs = _sum(u.output_tokens for u in runs)
    cost = _sum(u.cost_usd for u in runs)
    turns = _sum(u.turns for u in runs)
    wall = _sum(u.wall_s for u in runs)
    return Usage(
        input_tokens=int(inputs) if inputs is not None else None,
        output_tokens=int(outputs) if outputs is not None else None,
        cost_usd=round(float(cost), 6) if cost is not None else None,
        turns=int(turns) if turns is not None else None,
        wall_s=round(float(wall), 3) if wall is not None else None,
    )


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """The values of the variables of ``env`` that hold secrets (``*_KEY``, ``*_TOKEN`` ...)."""
    return tuple(
        value
        for name, value in env.items()
        if _SECRET_NAME.search(name) and len(value) >= _MIN_SECRET_CHARS
    )


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``[redacted]``."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def transcript(stdout: str, stderr: str, secrets: Iterable[str]) -> str:
    """What the agent printed, redacted, bounded to its last :data:`MAX_TRANSCRIPT_CHARS`."""
    text = stdout if not stderr.strip() else f"{stdout}\n--- stderr ---\n{stderr}"
    text = redact(text, secrets)
    if len(text) > MAX_TRANSCRIPT_CHARS:
        return "[... cut ...]\n" + text[-MAX_TRANSCRIPT_CHARS:]
    return text
