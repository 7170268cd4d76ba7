"""The benchmark's worker processes: started and stopped by their ids, memory read in /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import Celery

from ctworkflow import constants

WORKER_APP = "tests.benchmarks.worker_app"
#: The checkout the benchmark runs from: its workers import ``benchmarks`` from there.
ROOT = Path(__file__).resolve().parents[2]
SAMPLE_INTERVAL_S = 0.2
#: The variable naming the file where the bench worker app notes each process that runs a
#: spawn step (:mod:`~tests.benchmarks.worker_app`), one pid a line.
SPAWNERS_FILE_VARIABLE = "BENCH_SPAWNERS_FILE"
STOP_GRACE_S = 20.0


def rss_kib(pid: int) -> int | None:
    """Resident memory of a process (``VmRSS``, KiB), None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def children_of(pid: int) -> list[int]:
    """Ids of the processes whose parent is ``pid`` (a worker's pool processes)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


@dataclass
class MemorySampler:
    """Samples the resident memory of every worker process; keeps each one's peak."""

    mains: list[int]
    peaks: dict[int, int] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        for main in self.mains:
            pids = [(main, "main"), *((child, "pool") for child in children_of(main))]
            for pid, role in pids:
                kib = rss_kib(pid)
                if kib is None:
                    continue
                with self._lock:
                    self.roles[pid] = role
                    self.peaks[pid] = max(self.peaks.get(pid, 0), kib)

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            self.sample()

    @contextmanager
    def window(self) -> Iterator[list[dict[str, Any]]]:
        """Sample while the block runs; the list it yields is filled with the peaks on exit."""
        peaks: list[dict[str, Any]] = []
        with self._lock:
            self.peaks.clear()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="bench-memory", daemon=True)
        self._thread.start()
        try:
            yield peaks
        finally:
            self._stop.set()
            self._thread.join()
            self.sample()
            with self._lock:
                peaks.extend(
                    {"pid": pid, "role": self.roles[pid], "peak_rss_mb": round(kib / 1024, 1)}
                    for pid, kib in sorted(self.peaks.items())
                )


@dataclass
class Fleet:
    """Celery worker processes serving every queue, from :data:`WORKER_APP`."""

    env: Mapping[str, str]
    logs: Path
    count: int = 1
    concurrency: int = 2
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def start(self, client: Celery, timeout_s: float = 60.0) -> None:
        """Start the workers and wait until every one answers a ping."""
        self.logs.mkdir(parents=True, exist_ok=True)
        queues = ",".join(constants.QUEUES)
        for index in range(self.count):
            name = f"bench{index}-{uuid.uuid4().hex[:6]}@%h"
            with (self.logs / f"worker-{index}.log").open("ab") as log:
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        WORKER_APP,
                        "worker",
                        "-Q",
                        queues,
                        "--pool=prefork",
                        f"--concurrency={self.concurrency}",
                        "-n",
                        name,
                        "--loglevel=WARNING",
                        "--without-mingle",
                        "--without-gossip",
                    ],
                    cwd=ROOT,
                    env={
                        **self.env,
                        "PYTHONPATH": str(ROOT),
                        SPAWNERS_FILE_VARIABLE: str(self.spawners_file),
                    },
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.processes.append(process)
            self.names.append(name.replace("%h", os.uname().nodename))
        self._wait_ready(client, timeout_s)

    def _wait_ready(self, client: Celery, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        waiting = set(self.names)
        while waiting:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"a bench worker exited with code {process.returncode}; see {self.logs}"
                    )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"bench workers {sorted(waiting)} did not answer; see {self.logs}"
                )
            replies = client.control.ping(destination=sorted(waiting), timeout=1.0) or []
            for reply in replies:
                waiting -= set(reply)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    @property
    def spawners_file(self) -> Path:
        return self.logs / "spawners"

    def spawners(self) -> set[int]:
        """The worker processes that have run a spawn step so far."""
        try:
            text = self.spawners_file.read_text()
        except FileNotFoundError:
            return set()
        return {int(line) for line in text.split()}

    def restart(self, client: Celery, env: Mapping[str, str]) -> None:
        """Stop the workers, then start as many with ``env`` (another sandbox setting)."""
        self.stop()
        self.env = env
        self.start(client)

    def stop(self) -> None:
        """Warm shutdown (SIGTERM) of each worker we started; SIGKILL of its group if it hangs."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: our worker only
                process.wait()
        self.processes.clear()
        self.names.clear()
