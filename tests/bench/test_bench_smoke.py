"""The benchmark end to end on small shapes: its own servers and workers, both paths, a report.

No timing is asserted (the machine is shared); the document's shape and the sessions' ends are.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.benchmarks import report
from tests.benchmarks.main import main, run_bench
from tests.benchmarks.shapes import Shape, parse_shapes

pytestmark = pytest.mark.integration


def test_bench_runs_both_paths_and_reports(tmp_path: Path) -> None:
    shapes = parse_shapes("5x3,1x50")
    assert shapes == [Shape(5, 3), Shape(1, 50)]

    document = run_bench(shapes, tmp_path, command="test")

    assert [run["shape"]["name"] for run in document["runs"]] == ["5x3", "1x50"]
    for run, shape in zip(document["runs"], shapes, strict=True):
        assert run["shape"]["children"] == shape.children
        for path in ("bare", "orchestrated"):
            timing = run[path]
            assert timing["seconds"] > 0
            assert timing["per_child_ms"] == pytest.approx(
                1000 * timing["seconds"] / shape.children, rel=1e-2
            )
            assert timing["ended"] == timing["total"] == shape.contexts
            assert run["memory"][path], "no worker process was sampled"
            assert {p["role"] for p in run["memory"][path]} == {"main", "pool"}
            assert all(0 < p["peak_rss_mb"] < 1024 for p in run["memory"][path])
        # Every orchestrated session went through the whole workflow and completed.
        assert run["orchestrated"]["sessions"] == {"complete": shape.contexts}
        assert run["ratio"] == pytest.approx(
            run["orchestrated"]["seconds"] / run["bare"]["seconds"], rel=1e-2
        )
    assert [t["target"] for t in document["targets"]] == ["peak RSS of any worker process (MB)"]
    assert document["workers"] == {"processes": 1, "concurrency": 2}
    json.dumps(document)  # serialisable as it is
    assert "| 5x3 | 15 |" in report.table(document)


def test_bench_refuses_a_malformed_shape(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--shapes", "10by3"])
    assert exited.value.code == 2
    assert "bad shape '10by3'" in capsys.readouterr().err
