"""``python -m tests.benchmarks.chord_memory N``: the memory one process spends sending a chord.

The spawn step sends a round as one Celery chord. This measures what that costs the sending
process on its own, with no database and no worker: it starts a Redis of its own, builds the
spawn step's signatures for N children (:func:`ctworkflow.tasks.dispatch.round_signatures`),
sends the chord as the spawn step does (:func:`ctworkflow.tasks.dispatch.send_chord`), and
prints the process's resident memory (``VmRSS``) and its peak so far
(``VmHWM``) before, after building and after sending, and what the process still holds of
the chord (Redis subscriptions, result objects waited on), as one JSON document.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

from tests import servers


def memory_mb() -> dict[str, float]:
    """This process's resident memory and its peak so far, in MB (Linux ``/proc``)."""
    fields: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields["VmRSS"], "peak_mb": fields["VmHWM"]}


def measure(children: int, redis_url_db0: str, redis_url_db1: str) -> dict[str, object]:
    """Send one chord of ``children`` component runs to Redis; memory at each stage."""
    from celery.result import denied_join_result

    from ctworkflow.domain.model import Scope
    from ctworkflow.tasks import celery_internals
    from ctworkflow.tasks.app import app
    from ctworkflow.tasks.dispatch import round_signatures, send_chord

    app.conf.update(broker_url=redis_url_db0, result_backend=redis_url_db1)
    scope = Scope(account_id=uuid.uuid4(), project_id=uuid.uuid4(), user_id="m")
    stages = {"before": memory_mb()}
    header, callback = round_signatures(
        app, scope, uuid.uuid4(), 1, [uuid.uuid4() for _ in range(children)]
    )
    stages["signatures built"] = memory_mb()
    # As in a worker process: sending does not subscribe to the results.
    with denied_join_result():
        send_chord(app, header, callback)
    stages["chord sent"] = memory_mb()
    held = celery_internals.held(app).to_json()
    return {"children": children, "stages": stages, "left_in_process": held}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.chord_memory")
    parser.add_argument("children", type=int, help="header tasks in the chord, e.g. 10000")
    args = parser.parse_args(argv)
    if args.children < 1:
        parser.error("children must be at least 1")
    with (
        tempfile.TemporaryDirectory(prefix="ctw-chord-memory-") as folder,
        servers.running_redis(Path(folder)) as redis,
    ):
        document = measure(args.children, redis.url(0), redis.url(1))
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
