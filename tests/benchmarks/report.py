"""The benchmark's JSON document, its targets and its readable table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

#: The issue's targets: orchestrated time over bare time on many small contexts, per-child cost
#: at 10,000 over 1,000 components, and resident memory of every worker process.
SMALL_SHAPE: Final = "200x10"
SMALL_RATIO_MAX: Final = 1.3
WIDE_SHAPES: Final = ("1x1000", "1x10000")
WIDE_RATIO_MAX: Final = 1.2
RSS_MAX_MB: Final = 200.0

_COLUMNS: Final = (
    ("shape", "{shape}"),
    ("children", "{children}"),
    ("bare s", "{bare_s:.2f}"),
    ("orchestrated s", "{orch_s:.2f}"),
    ("ratio", "{ratio:.2f}"),
    ("bare ms/child", "{bare_ms:.2f}"),
    ("orch ms/child", "{orch_ms:.2f}"),
    ("sessions complete", "{complete}/{contexts}"),
    ("peak RSS MB", "{rss:.0f}"),
)


def peak_rss(run: Mapping[str, Any]) -> float:
    """The highest resident memory of any worker process during a shape's two runs."""
    samples = [p["peak_rss_mb"] for phase in run["memory"].values() for p in phase]
    return float(max(samples, default=0.0))


def targets(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each target the runs can judge: its measured value, its limit and whether it is met."""
    by_name = {run["shape"]["name"]: run for run in runs if "orchestrated" in run}
    judged: list[dict[str, Any]] = []
    if SMALL_SHAPE in by_name:
        ratio = by_name[SMALL_SHAPE]["ratio"]
        judged.append(
            {
                "target": f"{SMALL_SHAPE}: orchestrated / bare time",
                "value": ratio,
                "limit": SMALL_RATIO_MAX,
                "met": ratio <= SMALL_RATIO_MAX,
            }
        )
    small, wide = WIDE_SHAPES
    if small in by_name and wide in by_name:
        ratio = round(
            by_name[wide]["orchestrated"]["per_child_ms"]
            / by_name[small]["orchestrated"]["per_child_ms"],
            3,
        )
        judged.append(
            {
                "target": f"per-child cost {wide} / {small}",
                "value": ratio,
                "limit": WIDE_RATIO_MAX,
                "met": ratio <= WIDE_RATIO_MAX,
            }
        )
    if runs:
        rss = max(peak_rss(run) for run in runs)
        judged.append(
            {
                "target": "peak RSS of any worker process (MB)",
                "value": rss,
                "limit": RSS_MAX_MB,
                "met": rss < RSS_MAX_MB,
            }
        )
    return judged


def _row(run: Mapping[str, Any]) -> dict[str, Any]:
    bare, orch = run["bare"], run["orchestrated"]
    return {
        "shape": run["shape"]["name"],
        "children": run["shape"]["children"],
        "contexts": run["shape"]["contexts"],
        "bare_s": bare["seconds"],
        "orch_s": orch["seconds"],
        "ratio": run["ratio"],
        "bare_ms": bare["per_child_ms"],
        "orch_ms": orch["per_child_ms"],
        "complete": orch["sessions"].get("complete", 0),
        "rss": peak_rss(run),
    }


def table(document: Mapping[str, Any]) -> str:
    """A Markdown table of the runs, then the targets."""
    runs = [run for run in document["runs"] if "orchestrated" in run]
    header = "| " + " | ".join(name for name, _ in _COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in _COLUMNS) + "|"
    lines = [header, rule]
    for run in runs:
        values = _row(run)
        lines.append("| " + " | ".join(fmt.format(**values) for _, fmt in _COLUMNS) + " |")
    for skipped in (run for run in document["runs"] if "orchestrated" not in run):
        lines.append(f"| {skipped['shape']['name']} | skipped: {skipped.get('skipped', '')} |")
    if document.get("targets"):
        lines += ["", "| target | measured | limit | met |", "|---|---|---|---|"]
        for target in document["targets"]:
            met = "yes" if target["met"] else "no"
            lines.append(f"| {target['target']} | {target['value']} | {target['limit']} | {met} |")
    return "\n".join(lines)
