"""``python -m tests.benchmarks``: both paths, shape by shape, on the same workers and servers."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import celery
from celery import Celery

from ctworkflow import errors
from ctworkflow.persistence import db
from tests import servers
from tests.benchmarks import noop, report
from tests.benchmarks import runs as runs_of
from tests.benchmarks.fleet import Fleet, MemorySampler
from tests.benchmarks.shapes import PRESETS, Shape, parse_shapes


def _worker_env(database_url: str, broker_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTW_")}
    env.update(
        {
            "CTW_DATABASE_URL": database_url,
            "CTW_BROKER_URL": broker_url,
            "CTW_DATA_DIR": str(data_dir),
            "CTW_LOG_LEVEL": "WARNING",
        }
    )
    return env


def _client(broker_url: str, backend_url: str) -> Celery:
    client = Celery("ctw-bench", broker=broker_url, backend=backend_url)
    client.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
    )
    return client


def run_bench(
    shapes: Sequence[Shape],
    workdir: Path,
    *,
    workers: int = 1,
    concurrency: int = 2,
    command: str = "",
) -> dict[str, Any]:
    """Start servers and workers of our own, time both paths for every shape, stop them all."""
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    runs: list[dict[str, Any]] = []
    with (
        noop.registered(),  # this process creates projects and sessions that name bench-noop
        servers.running_postgres() as postgres,
        servers.running_redis(workdir) as redis,
    ):
        database_url = postgres.create_database("ctw_bench")
        db.migrate(database_url)
        client = _client(redis.url(0), redis.url(1))
        env = _worker_env(database_url, redis.url(0), workdir / "ctw-data")
        fleet = Fleet(env=env, logs=workdir / "logs", count=workers, concurrency=concurrency)
        try:
            fleet.start(client)
            bench = runs_of.Bench(
                client=client,
                database_url=database_url,
                fleet=fleet,
                sampler=MemorySampler(mains=fleet.pids),
                workdir=workdir,
            )
            for index, shape in enumerate(shapes):
                began = time.monotonic()
                run = runs_of.measure(bench, shape)
                run["wall_s"] = round(time.monotonic() - began, 1)
                runs.append(run)
                if report.ended_late(run):
                    runs += [
                        {"shape": s.to_json(), "skipped": f"{shape.name} did not end in time"}
                        for s in shapes[index + 1 :]
                    ]
                    break
        finally:
            fleet.stop()
            client.close()
            db.close_engine(database_url)
    return {
        "command": command,
        "started_at": started_at,
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "celery": celery.__version__,
        },
        "workers": {"processes": workers, "concurrency": concurrency},
        "runs": runs,
        "targets": report.targets(runs),
        "bench_process_peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks",
        description="Time bare Celery chords and the orchestrated workflow, shape by shape.",
    )
    presets = ", ".join(f"{name}={spec}" for name, spec in PRESETS.items())
    parser.add_argument(
        "--shapes",
        default="full",
        help=f"[KIND:]CONTEXTSxCOMPONENTS[:N],... or a preset ({presets}); default: full",
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--concurrency", type=int, default=2, help="prefork pool size of each (default 2)"
    )
    parser.add_argument("--json", type=Path, help="also write the JSON document to this file")
    parser.add_argument(
        "--workdir", type=Path, help="keep repositories and worker logs here (default: temporary)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the table goes to stderr, the JSON document to stdout."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(args_list)
    try:
        shapes = parse_shapes(args.shapes)
    except errors.InvalidInput as error:
        parser.error(str(error))
    command = shlex.join(["python", "-m", "tests.benchmarks", *args_list])
    began = time.monotonic()
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        document = run_bench(
            shapes,
            args.workdir,
            workers=args.workers,
            concurrency=args.concurrency,
            command=command,
        )
    else:
        with tempfile.TemporaryDirectory(prefix="ctw-bench-") as folder:
            document = run_bench(
                shapes,
                Path(folder),
                workers=args.workers,
                concurrency=args.concurrency,
                command=command,
            )
    document["wall_s"] = round(time.monotonic() - began, 1)
    text = json.dumps(document, indent=2)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    print(report.table(document), file=sys.stderr)  # noqa: T201  (the table is the output)
    print(text)  # noqa: T201  (the JSON document is the output)
    return 0
