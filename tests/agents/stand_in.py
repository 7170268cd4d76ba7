"""Running the stand-in model server (:mod:`tests.agents.model_server`) and finding the real
coding agents' programs that ``make agents`` installs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "build" / "agent-tools"
CLAUDE = TOOLS / "claude-code" / "node_modules" / ".bin" / "claude"
AIDER = TOOLS / "aider" / "bin" / "aider"


def program(path: Path) -> str:
    """The program's path, or skip the test with the one line that says how to install it."""
    if not path.exists():
        pytest.skip(f"{path.name} is not installed: run `make agents`")
    return str(path)


@dataclass(frozen=True, slots=True)
class StandIn:
    """A running stand-in model server."""

    port: int
    record: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self) -> list[dict[str, Any]]:
        """Every request it got so far."""
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def model_calls(self) -> list[dict[str, Any]]:
        """The requests that asked the model something (Messages or chat completions)."""
        paths = ("/v1/messages", "/v1/chat/completions")
        return [r for r in self.requests() if r["path"].split("?")[0] in paths]


@contextmanager
def model_server(folder: Path, script: Mapping[str, Any], key: str) -> Iterator[StandIn]:
    """Start the stand-in on a free loopback port with ``script``; stop it on leaving."""
    folder.mkdir(parents=True, exist_ok=True)
    script_file, record = folder / "script.json", folder / "requests.jsonl"
    script_file.write_text(json.dumps(script))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.agents.model_server",
            "--script",
            str(script_file),
            "--record",
            str(record),
            "--key",
            key,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on "), line
        yield StandIn(port=int(line.split()[-1]), record=record)
    finally:
        process.terminate()
        process.wait(timeout=10)
