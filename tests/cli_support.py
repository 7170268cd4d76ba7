"""Running ``ctw`` as users do: its installed entry point, in a subprocess, with a given env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from tests import servers

CTW = Path(sys.executable).with_name("ctw")
#: The repository's top level: where the deployment's Celery apps (``workers/``) are.
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Result:
    """What a ``ctw`` run printed and how it exited."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """Stdout as one JSON document."""
        return json.loads(self.stdout)

    def json_lines(self) -> list[Any]:
        """Stdout as JSON lines."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def base_env(home: Path, **settings: str) -> dict[str, str]:
    """A clean environment: no inherited ``CTW_*``, its own HOME, and the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTW_", "FLOWER_"))}
    env.update(HOME=str(home), COLUMNS="160", NO_COLOR="1", **settings)
    return env


def ctw(*args: str, env: Mapping[str, str], timeout: float = 180) -> Result:
    """Run ``ctw ARGS``; never raises on a non-zero exit."""
    done = subprocess.run(
        [str(CTW), *args], env=dict(env), capture_output=True, text=True, timeout=timeout
    )
    return Result(done.returncode, done.stdout, done.stderr)


def server_env(
    tmp_path: Path, database: str, redis_url: str, result_url: str, **extra: str
) -> dict[str, str]:
    """A ``ctw`` user's (or a worker's) environment pointed at the test servers."""
    return base_env(
        tmp_path / "home",
        CTW_DATABASE_URL=database,
        CTW_BROKER_URL=redis_url,
        CTW_RESULT_BACKEND=result_url,
        CTW_DATA_DIR=str(tmp_path / "cli-data"),
        **extra,
    )


def ok(result: Result) -> Result:
    """``result``, once it is known to have exited 0."""
    assert result.code == 0, result.stderr + result.stdout
    return result


@contextmanager
def worker(
    argv: Sequence[str], env: dict[str, str], log: Path, *, stop_within_s: float = 30
) -> Iterator[subprocess.Popen[bytes]]:
    """A worker subprocess (``python -m ARGV``) started as a user does from the repository's
    top level; stderr kept in ``log``; stopped after."""
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", *argv], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err
        )
        try:
            yield process
        finally:
            process.terminate()  # the process we started, by its id
            try:
                process.wait(stop_within_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


@contextmanager
def worker_process(queue: str, app: str, env: dict[str, str], logs: Path) -> Iterator[str]:
    """A real worker process, of one pool process, consuming ``queue`` alone; its node name
    (its log: ``logs/NODE.log``). Stopped after, once its running task ended."""
    node = f"{queue.split('.')[-1]}-{uuid.uuid4().hex[:6]}@test"
    argv = ["celery", "-A", app, "worker", "-Q", queue, "--pool=prefork", "--concurrency=1",
            "--loglevel=INFO", "-n", node, "--without-mingle", "--without-gossip"]  # fmt: skip
    with worker(argv, env, logs / f"{node}.log", stop_within_s=60):
        yield node


def worker_env(redis_server: servers.RedisServer, broker_db: int, **extra: str) -> dict[str, str]:
    """The test's settings for workers started from the repository's top level, on broker and
    result databases of ``redis_server`` (``broker_db`` and the next one) that no other worker
    reads, emptied first; ``extra`` adds or overrides variables."""
    broker, results = redis_server.url(broker_db), redis_server.url(broker_db + 1)
    for url in (broker, results):
        redis.Redis.from_url(url).flushdb()
    return {
        **os.environ,  # the test's settings: its data folder, installer cache, agent paths
        "CTW_BROKER_URL": broker,
        "CTW_RESULT_BACKEND": results,
        "PYTHONPATH": str(ROOT),
        **extra,
    }
