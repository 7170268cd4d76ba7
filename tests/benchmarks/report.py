"""The benchmark's JSON document, its targets and its readable tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

#: The issue's targets (issue 23), each judged when the run holds the shapes it needs.
SMALL_SHAPE: Final = "200x10"
SMALL_RATIO_MAX: Final = 2.0
WIDE_SHAPES: Final = ("1x1000", "1x10000")
WIDE_RATIO_MAX: Final = 1.2
RSS_MAX_MB: Final = 150.0
REPOSITORY_RATIO_MAX: Final = 1.2
SANDBOX_STARTUP_MAX_MS: Final = 20.0
HEAD_OF_LINE_DELAY_MAX_S: Final = 1.0
#: Incremental: the second session's time over the first's, and the agents it runs.
INCREMENTAL_RATIO_MAX: Final = 0.1
INCREMENTAL_AGENT_RUNS_MAX: Final = 0
#: The timings a shape's run can hold: each must have ended in time.
_TIMINGS: Final = ("orchestrated", "first", "second")

_COLUMNS: Final = (
    ("shape", "{shape}"),
    ("children", "{children}"),
    ("bare s", "{bare_s:.2f}"),
    ("orchestrated s", "{orch_s:.2f}"),
    ("ratio", "{ratio:.2f}"),
    ("bare ms/child", "{bare_ms:.2f}"),
    ("orch ms/child", "{orch_ms:.2f}"),
    ("overhead ms/child", "{overhead_ms:.2f}"),
    ("sessions complete", "{complete}/{contexts}"),
    ("peak RSS MB", "{rss:.0f}"),
    ("spawner RSS MB", "{spawner_rss}"),
)


def _peaks(run: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    phases = [*run.get("memory", {}).values(), run.get("memory_sandbox_off", [])]
    return [peak for phase in phases for peak in phase]


def peak_rss(run: Mapping[str, Any]) -> float:
    """The highest resident memory of any worker process during a shape's runs."""
    return float(max((p["peak_rss_mb"] for p in _peaks(run)), default=0.0))


def spawner_rss(run: Mapping[str, Any]) -> float | None:
    """The highest resident memory of a worker process that ran a spawn step, if one did."""
    found = [p["peak_rss_mb"] for p in _peaks(run) if p.get("spawned_a_round")]
    return float(max(found)) if found else None


def overhead_ms(run: Mapping[str, Any]) -> float:
    """What the workflow adds to a bare chord's child: orchestrated minus bare, per child."""
    return float(run["orchestrated"]["per_child_ms"] - run["bare"]["per_child_ms"])


def ended_late(run: Mapping[str, Any]) -> bool:
    """Tell whether a session of the run had not ended when its time was up."""
    return any(run[name]["ended"] < run[name]["total"] for name in _TIMINGS if name in run)


def _judged(target: str, value: float, limit: float) -> dict[str, Any]:
    return {"target": target, "value": round(value, 3), "limit": limit, "met": value <= limit}


def _repository_targets(measured: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per-child overhead on the largest repository over that on the smallest, per CxN."""
    by_core: dict[tuple[int, int], list[Mapping[str, Any]]] = {}
    for run in measured:
        shape = run["shape"]
        if shape["kind"] == "repo":
            by_core.setdefault((shape["contexts"], shape["components"]), []).append(run)
    judged = []
    for pair in by_core.values():
        if len(pair) < 2:
            continue
        small, large = min(pair, key=_files), max(pair, key=_files)
        if _files(small) == _files(large) or overhead_ms(small) <= 0:
            continue
        name = f"overhead per child {large['shape']['name']} / {small['shape']['name']}"
        judged.append(_judged(name, overhead_ms(large) / overhead_ms(small), REPOSITORY_RATIO_MAX))
    return judged


def _files(run: Mapping[str, Any]) -> int:
    return int(run["shape"]["files"])


def targets(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each target the runs can judge: its measured value, its limit and whether it is met."""
    measured = [run for run in runs if "orchestrated" in run]
    by_name = {run["shape"]["name"]: run for run in measured}
    judged: list[dict[str, Any]] = []
    if SMALL_SHAPE in by_name:
        ratio = by_name[SMALL_SHAPE]["ratio"]
        judged.append(_judged(f"{SMALL_SHAPE}: orchestrated / bare time", ratio, SMALL_RATIO_MAX))
    small, wide = WIDE_SHAPES
    if small in by_name and wide in by_name:
        ratio = (
            by_name[wide]["orchestrated"]["per_child_ms"]
            / by_name[small]["orchestrated"]["per_child_ms"]
        )
        judged.append(_judged(f"per-child cost {wide} / {small}", ratio, WIDE_RATIO_MAX))
    judged += _repository_targets(measured)
    for run in runs:
        startup = run.get("sandbox_startup", {}).get("bubblewrap")
        if startup is not None:
            name = f"{run['shape']['name']}: sandbox start-up per run (ms)"
            judged.append(_judged(name, startup["startup_ms"], SANDBOX_STARTUP_MAX_MS))
        if "delay_s" in run:
            name = f"{run['shape']['name']}: delay of another session's steps (s)"
            judged.append(_judged(name, run["delay_s"], HEAD_OF_LINE_DELAY_MAX_S))
        if "second_over_first" in run:
            judged += _incremental_targets(run)
    sampled = [run for run in runs if "memory" in run]
    if sampled:
        rss = max(peak_rss(run) for run in sampled)
        judged.append(
            {
                "target": "peak RSS of any worker process (MB)",
                "value": rss,
                "limit": RSS_MAX_MB,
                "met": rss < RSS_MAX_MB,
            }
        )
    return judged


def _incremental_targets(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    name = run["shape"]["name"]
    return [
        _judged(
            f"{name}: second session's time / first's",
            run["second_over_first"],
            INCREMENTAL_RATIO_MAX,
        ),
        _judged(
            f"{name}: agent runs in the second session",
            run["second_round"]["agent_runs"],
            INCREMENTAL_AGENT_RUNS_MAX,
        ),
    ]


def _row(run: Mapping[str, Any], orchestrated: str = "orchestrated") -> dict[str, Any]:
    bare, orch = run["bare"], run[orchestrated]
    spawner = spawner_rss(run)
    label = "" if orchestrated == "orchestrated" else " (sandbox off)"
    return {
        "shape": run["shape"]["name"] + label,
        "children": run["shape"]["children"],
        "contexts": run["shape"]["contexts"],
        "bare_s": bare["seconds"],
        "orch_s": orch["seconds"],
        "ratio": orch["seconds"] / bare["seconds"],
        "bare_ms": bare["per_child_ms"],
        "orch_ms": orch["per_child_ms"],
        "overhead_ms": orch["per_child_ms"] - bare["per_child_ms"],
        "complete": orch["sessions"].get("complete", 0),
        "rss": peak_rss(run),
        "spawner_rss": "-" if spawner is None else f"{spawner:.0f}",
    }


def _timing_table(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    if not any("orchestrated" in run or "skipped" in run for run in runs):
        return []
    lines = [
        "| " + " | ".join(name for name, _ in _COLUMNS) + " |",
        "|" + "|".join("---" for _ in _COLUMNS) + "|",
    ]
    for run in runs:
        if "orchestrated" not in run:
            continue
        variants = ["orchestrated"] + (
            ["orchestrated_sandbox_off"] if "orchestrated_sandbox_off" in run else []
        )
        for variant in variants:
            values = _row(run, variant)
            lines.append("| " + " | ".join(fmt.format(**values) for _, fmt in _COLUMNS) + " |")
    for run in runs:
        if "skipped" in run:
            lines.append(f"| {run['shape']['name']} | skipped: {run['skipped']} |")
    return lines


def _head(*columns: str) -> list[str]:
    """A blank line, then a table's header and its rule."""
    return ["", "| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]


def _sandbox_table(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    rows = [run for run in runs if "sandbox_startup" in run]
    if not rows:
        return []
    lines = _head(
        "shape", "sandbox ms/child", "CTW_SANDBOX", "bare run ms", "run with policy ms",
        "start-up ms",
    )  # fmt: skip
    for run in rows:
        for mode, found in run["sandbox_startup"].items():
            lines.append(
                f"| {run['shape']['name']} | {run['sandbox_per_child_ms']:.2f} | {mode} "
                f"| {found['bare']['median_ms']:.2f} | {found['sandboxed']['median_ms']:.2f} "
                f"| {found['startup_ms']:.2f} |"
            )
    return lines


def _head_of_line_table(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    rows = [run for run in runs if "delay_s" in run]
    if not rows:
        return []
    lines = _head(
        "shape", "probe alone s", "probe behind s", "delay s", "overlapped", "slow session",
        "slow validation + finalize s",
    )  # fmt: skip
    for run in rows:
        slow = run["slow"]
        ended = ", ".join(f"{k} {v}" for k, v in sorted(slow["sessions"].items()))
        lines.append(
            f"| {run['shape']['name']} | {run['probe_alone_s']:.2f} | "
            f"{run['probe_behind_s']:.2f} | {run['delay_s']:.2f} | "
            f"{'yes' if run['overlapped'] else 'no'} | {ended} | "
            f"{slow['validation_and_finalize_s']:.2f} |"
        )
    return lines


def _incremental_table(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    rows = [run for run in runs if "second_over_first" in run]
    if not rows:
        return []
    lines = _head(
        "shape", "children", "first s", "second s", "second / first", "agent runs (second)",
        "reused (second)", "sessions complete (first, second)", "peak RSS MB", "spawner RSS MB",
    )  # fmt: skip
    for run in rows:
        first, second, done = run["first"], run["second"], run["second_round"]
        complete = [str(t["sessions"].get("complete", 0)) for t in (first, second)]
        spawner = spawner_rss(run)
        lines.append(
            f"| {run['shape']['name']} | {run['shape']['children']} | {first['seconds']:.2f} | "
            f"{second['seconds']:.2f} | {run['second_over_first']:.3f} | {done['agent_runs']} | "
            f"{done['reused']}/{done['children']} | {', '.join(complete)} of "
            f"{run['shape']['contexts']} | {peak_rss(run):.0f} | "
            f"{'-' if spawner is None else f'{spawner:.0f}'} |"
        )
    return lines


def table(document: Mapping[str, Any]) -> str:
    """Markdown tables of the runs (timings, sandbox, head of line), then the targets."""
    runs = document["runs"]
    lines = (
        _timing_table(runs)
        + _sandbox_table(runs)
        + _head_of_line_table(runs)
        + _incremental_table(runs)
    )
    if "bench_process_peak_rss_mb" in document:
        lines += ["", f"Benchmark process peak RSS: {document['bench_process_peak_rss_mb']} MB"]
    if document.get("targets"):
        lines += ["", "| target | measured | limit | met |", "|---|---|---|---|"]
        for target in document["targets"]:
            met = "yes" if target["met"] else "no"
            lines.append(f"| {target['target']} | {target['value']} | {target['limit']} | {met} |")
    return "\n".join(lines)
