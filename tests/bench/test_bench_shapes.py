"""The benchmark's newer shapes end to end on tiny sizes: each runs and reports its fields.

No timing is asserted (the machine is shared): what each shape measured, that its sessions
completed, and that its targets and tables name it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.benchmarks import report
from tests.benchmarks.main import run_bench
from tests.benchmarks.shapes import parse_shapes
from tests.samples import git

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]


def test_repository_sandbox_and_incremental_shapes_run_and_report(tmp_path: Path) -> None:
    shapes = parse_shapes("repo:1x2:50,repo:1x2:150,sandbox:1x2,incremental:1x2:300")

    document = run_bench(shapes, tmp_path, command="test")

    runs = {run["shape"]["name"]: run for run in document["runs"]}
    assert list(runs) == [
        "repo:1x2:50",
        "repo:1x2:150",
        "sandbox:1x2",
        "incremental:1x2:300",
    ]
    for name in ("repo:1x2:50", "repo:1x2:150", "sandbox:1x2"):
        assert runs[name]["orchestrated"]["sessions"] == {"complete": 1}
        assert runs[name]["bare"]["ended"] == 1
    # The padded repository holds the files its shape names.
    assert runs["repo:1x2:150"]["shape"]["files"] == 150
    padded = tmp_path / "repo-repo-1x2-150" / "work"
    assert sum(1 for p in padded.rglob("*") if p.is_file() and ".git" not in p.parts) == 150
    # The sandbox shape ran on workers with the sandbox off too, and timed its start-up.
    sandbox = runs["sandbox:1x2"]
    assert sandbox["orchestrated_sandbox_off"]["sessions"] == {"complete": 1}
    assert sandbox["memory_sandbox_off"]
    assert sandbox["sandbox_per_child_ms"] == pytest.approx(
        sandbox["orchestrated"]["per_child_ms"]
        - sandbox["orchestrated_sandbox_off"]["per_child_ms"],
        abs=1e-2,
    )
    startup = sandbox["sandbox_startup"]
    assert {mode: found["mode"] for mode, found in startup.items()} == {
        "bubblewrap": "bubblewrap",
        "none": "none",
    }
    for found in startup.values():
        assert found["runs"] > 0 and found["sandboxed"]["median_ms"] > 0
    # The memory of the process that spawned each round is named.
    assert any(p["spawned_a_round"] for p in sandbox["memory"]["orchestrated"])
    assert report.spawner_rss(sandbox) is not None
    # The incremental shape's second session ran no agent: every child kept its artifact. Its
    # first paid the agent's cost (300 ms a component, on two pool processes at most).
    incremental = runs["incremental:1x2:300"]
    assert incremental["shape"]["agent_ms"] == 300
    assert incremental["first"]["seconds"] >= 0.3
    assert incremental["first"]["sessions"] == incremental["second"]["sessions"] == {"complete": 1}
    assert incremental["second_round"] == {"children": 2, "agent_runs": 0, "reused": 2}
    assert incremental["second_over_first"] == pytest.approx(
        incremental["second"]["seconds"] / incremental["first"]["seconds"], rel=1e-2
    )
    assert incremental["memory"]["first"] and incremental["memory"]["second"]
    assert [t["target"] for t in document["targets"]] == [
        "overhead per child repo:1x2:150 / repo:1x2:50",
        "sandbox:1x2: sandbox start-up per run (ms)",
        "incremental:1x2:300: second session's time / first's",
        "incremental:1x2:300: agent runs in the second session",
        "peak RSS of any worker process (MB)",
    ]
    agent_runs = next(t for t in document["targets"] if "agent runs" in t["target"])
    assert agent_runs["value"] == 0 and agent_runs["met"]
    assert document["bench_process_peak_rss_mb"] > 0
    json.dumps(document)
    text = report.table(document)
    assert "| sandbox:1x2 (sandbox off) | 2 |" in text
    assert "| incremental:1x2:300 | 2 |" in text
    assert "| 0 | 2/2 | 1, 1 of 1 |" in text


def test_head_of_line_shape_times_a_probe_behind_a_slow_validation(tmp_path: Path) -> None:
    document = run_bench(parse_shapes("hol:1x1:1"), tmp_path, command="test")

    (run,) = document["runs"]
    assert run["shape"]["seconds"] == 1
    assert run["probe"]["statuses"] == {"complete": 1}
    assert run["slow"]["sessions"] == {"complete": 1}
    assert run["delay_s"] == pytest.approx(run["probe_behind_s"] - run["probe_alone_s"], abs=1e-2)
    assert isinstance(run["overlapped"], bool)
    # The slow context's test really ran: it is in the branch its session pushed.
    slow_remote = tmp_path / "repo-hol-1x1-1" / "slow" / "remote.git"
    pushed = git("for-each-ref", "--format=%(refname)", cwd=slow_remote).split()
    pushed.remove("refs/heads/main")
    assert pushed, "the slow session pushed no branch"
    assert all(
        "time.sleep(1.0)" in git("grep", "-h", "time.sleep", ref, cwd=slow_remote) for ref in pushed
    )
    assert [t["target"] for t in document["targets"]] == [
        "hol:1x1:1: delay of another session's steps (s)"
    ]
    assert "| hol:1x1:1 |" in report.table(document)
