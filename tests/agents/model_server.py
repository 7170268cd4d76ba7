"""A stand-in model server for the real coding agents: a small HTTP program on loopback.

    python -m tests.agents.model_server --script SCRIPT.json --record REQUESTS.jsonl

It prints ``listening on PORT`` once it accepts connections, and speaks two APIs:

- the Anthropic Messages API (``POST /v1/messages``, streamed as server-sent events or not;
  ``POST /v1/messages/count_tokens``), as Claude Code uses it: tool use, one call per answer;
- the OpenAI chat completions API (``POST /v1/chat/completions``, streamed or not), as Aider
  uses it: the files in Aider's whole-file edit format in the answer's text.

The script (JSON) says what the "model" does:

- ``{"mode": "write", "files": [{"path": "tests/test_x.py", "content": "..."}],
  "final": "..."}``: write each file (Claude Code: a ``Read`` then a ``Write`` of each, one
  tool call per answer, then the final text once every tool result is back; Aider: every file
  in one answer). A path is relative to the agent's working directory, which Claude Code names
  in its system prompt. ``{module}``, ``{source_path}`` and ``{test_path}`` in a path or a
  content are replaced with what ctworkflow's prompt names.
- ``{"mode": "garbage"}``: answer 200 with a body that is not the API's;
- ``{"mode": "hang"}``: accept the request and never answer.

Every request (path, headers but the key's value, body) is appended to the record file, one
JSON document a line; ``x-api-key`` and ``authorization`` are recorded as whether they carried
the expected key (``--key``). Each answer reports usage: 1000 input tokens and 50 output
tokens per call (chat completions: prompt and completion tokens).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

INPUT_TOKENS = 1000
OUTPUT_TOKENS = 50
_CWD = re.compile(r"Primary working directory: (\S+)|Working directory: (\S+)")
#: What ctworkflow's prompt says (ctworkflow/agents/prompt.py): the module and the test path.
_MODULE = re.compile(r"\(module (\S+),")
_SOURCE_PATH = re.compile(r"Its source is in (\S+)\.$", re.M)
_TEST_PATH = re.compile(r"Write the tests to (\S+)\.$|already has a test file, (\S+), ", re.M)
_lock = threading.Lock()


class Script:
    """What the model answers, read once from the script file."""

    def __init__(self, data: dict[str, Any], key: str | None) -> None:
        self.mode: str = data.get("mode", "write")
        self.files: list[dict[str, str]] = list(data.get("files", []))
        self.final: str = data.get("final", "I wrote the tests.")
        self.key = key


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def _workdir(body: dict[str, Any]) -> str:
    """The agent's working directory, as Claude Code tells it in its system prompt."""
    texts = [_text_of(body.get("system"))]
    texts += [_text_of(m.get("content")) for m in body.get("messages", [])]
    for text in texts:
        match = _CWD.search(text)
        if match:
            return match.group(1) or match.group(2)
    return "."


def _conversation(body: dict[str, Any]) -> str:
    return "\n".join(_text_of(m.get("content")) for m in body.get("messages", []))


def scripted_files(script: Script, body: dict[str, Any]) -> list[dict[str, str]]:
    """The script's files, ``{module}``, ``{source_path}`` and ``{test_path}`` replaced with
    what the prompt names (each component's run writes its own test file)."""
    text = _conversation(body)
    module, test_path = _MODULE.search(text), _TEST_PATH.search(text)
    source_path = _SOURCE_PATH.search(text)
    values = {
        "{module}": module.group(1) if module else "",
        "{source_path}": source_path.group(1) if source_path else "",
        "{test_path}": (test_path.group(1) or test_path.group(2)) if test_path else "",
    }
    files = []
    for file in script.files:
        path, content = file["path"], file["content"]
        for placeholder, value in values.items():
            path, content = path.replace(placeholder, value), content.replace(placeholder, value)
        files.append({"path": path, "content": content})
    return files


def _tool_results(body: dict[str, Any]) -> int:
    return sum(
        1
        for message in body.get("messages", [])
        if isinstance(message.get("content"), list)
        for block in message["content"]
        if isinstance(block, dict) and block.get("type") == "tool_result"
    )


def anthropic_blocks(script: Script, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The content of the next answer: the next tool call, or the final text."""
    if not body.get("tools"):  # a side request (a title, a summary): plain text
        return [{"type": "text", "text": "Tests"}]
    calls = []
    for file in scripted_files(script, body):
        path = f"{_workdir(body)}/{file['path']}"
        calls.append(("Read", {"file_path": path}))
        calls.append(("Write", {"file_path": path, "content": file["content"]}))
    done = _tool_results(body)
    if done >= len(calls):
        return [{"type": "text", "text": script.final}]
    name, tool_input = calls[done]
    return [
        {
            "type": "tool_use",
            "id": f"toolu_{uuid.uuid4().hex[:20]}",
            "name": name,
            "input": tool_input,
        }
    ]


def aider_text(script: Script, body: dict[str, Any]) -> str:
    """Aider's whole-file edit format: each file's path, then its content fenced."""
    parts = ["Here are the tests."]
    for file in scripted_files(script, body):
        parts += ["", file["path"], "```python", file["content"].rstrip("\n"), "```"]
    return "\n".join(parts) + "\n"


def _usage() -> dict[str, int]:
    return {"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS}


def anthropic_message(blocks: list[dict[str, Any]], model: str) -> dict[str, Any]:
    stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": _usage(),
    }


def anthropic_events(message: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The server-sent events of a streamed answer."""
    start = {**message, "content": [], "stop_reason": None}
    start["usage"] = {"input_tokens": INPUT_TOKENS, "output_tokens": 1}
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(message["content"]):
        opening: dict[str, Any]
        if block["type"] == "text":
            opening = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            opening = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": opening,
            },
        )
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": OUTPUT_TOKENS},
        },
    )
    yield "message_stop", {"type": "message_stop"}


def openai_completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": INPUT_TOKENS,
            "completion_tokens": OUTPUT_TOKENS,
            "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
        },
    }


def openai_chunks(completion: dict[str, Any]) -> Iterator[dict[str, Any]]:
    base = {k: completion[k] for k in ("id", "created", "model")}
    base["object"] = "chat.completion.chunk"
    text = completion["choices"][0]["message"]["content"]
    yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}
    for start in range(0, len(text), 200):
        piece = text[start : start + 200]
        yield {**base, "choices": [{"index": 0, "delta": {"content": piece}}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    yield {**base, "choices": [], "usage": completion["usage"]}


class Handler(BaseHTTPRequestHandler):
    """One request: record it, then answer as the script says."""

    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _record(self, body: Any) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        key = self.server.script.key
        for name in ("x-api-key", "authorization"):
            if name in headers:
                headers[name] = "expected-key" if key and key in headers[name] else "other-key"
        entry = {"method": self.command, "path": self.path, "headers": headers, "body": body}
        with _lock, self.server.record.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")

    def _read_body(self) -> Any:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _json(self, status: int, document: dict[str, Any]) -> None:
        self._send(status, json.dumps(document).encode(), "application/json")

    def _stream(self, lines: Iterator[bytes]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        for line in lines:
            self.wfile.write(line)
            self.wfile.flush()
        self.close_connection = True

    def do_GET(self) -> None:
        self._record(None)
        if self.path.split("?")[0] == "/v1/models":
            self._json(200, {"data": [], "has_more": False, "object": "list"})
        else:
            self._json(
                404, {"type": "error", "error": {"type": "not_found_error", "message": "no"}}
            )

    def do_HEAD(self) -> None:
        self._record(None)
        self._send(200, b"", "text/plain")

    def do_POST(self) -> None:
        body = self._read_body()
        self._record(body)
        path = self.path.split("?")[0]
        script = self.server.script
        if path.endswith("/count_tokens"):
            self._json(200, {"input_tokens": INPUT_TOKENS})
            return
        if path not in ("/v1/messages", "/v1/chat/completions", "/chat/completions"):
            self._json(
                404, {"type": "error", "error": {"type": "not_found_error", "message": path}}
            )
            return
        if script.mode == "hang":
            while not self.server.stopping.wait(1.0):
                pass
            return
        if script.mode == "garbage":
            self._send(200, b"<html>not an answer</html>\x00\xff", "application/json")
            return
        body = body if isinstance(body, dict) else {}
        model = str(body.get("model", "stand-in"))
        if path == "/v1/messages":
            message = anthropic_message(anthropic_blocks(script, body), model)
            if body.get("stream"):
                self._stream(
                    f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
                    for name, data in anthropic_events(message)
                )
            else:
                self._json(200, message)
            return
        completion = openai_completion(aider_text(script, body), model)
        if body.get("stream"):
            chunks = (f"data: {json.dumps(c)}\n\n".encode() for c in openai_chunks(completion))
            self._stream(iter([*chunks, b"data: [DONE]\n\n"]))
        else:
            self._json(200, completion)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script: Script, record: Path) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script = script
        self.record = record
        self.stopping = threading.Event()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--script", type=Path, required=True)
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("--key", default=None, help="the API key the agents should send")
    args = parser.parse_args(argv)
    script = Script(json.loads(args.script.read_text(encoding="utf-8")), args.key)
    server = Server(script, args.record)
    sys.stdout.write(f"listening on {server.server_address[1]}\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping.set()
        server.server_close()


if __name__ == "__main__":
    main()
