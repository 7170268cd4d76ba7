"""What a component's tests exercise: its settings, its measurement's document, the bar.

Pure. A *measurement* is a JSON document of one test file against one source file (see
``docs/test-quality.md``)::

    {"coverage": {"status": "measured", "percent": 82.1, "line_percent": 85.0,
                  "branch_percent": 75.0, "lines": {"covered": 17, "total": 20},
                  "branches": {"covered": 3, "total": 4}, "uncovered": "12-15, 40",
                  "missing_branches": ["8->10"]},
     "mutation": {"status": "measured", "mutants": 12, "killed": 9, "survived": 3,
                  "score": 75.0, "surviving": [{"line": 8, "operator": "compare",
                  "original": "a < 0", "mutated": "(a <= 0)"}], ...},
     "duration_s": 4.2}

A figure that cannot be taken says ``{"status": "unavailable", "reason": ...}`` (mutation:
``"disabled"`` when the project's cap is 0). A component's *quality* is ``{"base": ...,
"after": ...}``: its test file at the base (None: it had none) and after the change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ctworkflow import errors

#: At most this many survivors (and missing branches) are kept in a report.
MAX_KEPT: Final = 20
#: The feedback a round gets about its coverage and mutants stays under this many characters.
MAX_FEEDBACK_CHARS: Final = 6000
#: Lines of source shown around each uncovered range in the feedback.
CONTEXT_LINES: Final = 1

MEASURED: Final = "measured"
UNAVAILABLE: Final = "unavailable"
DISABLED: Final = "disabled"


@dataclass(frozen=True, slots=True, kw_only=True)
class QualitySettings:
    """A project's test-quality settings (see :func:`settings`)."""

    #: The least line+branch coverage (percent) a component's tests must reach; None: no bar.
    min_coverage: float | None = None
    #: A component's tests may not cover less of it than its tests at the base did.
    never_lower_coverage: bool = False
    #: Mutants run per component and measurement (sampled); 0 turns mutation off.
    max_mutants: int = 40
    #: How long the tests may run against one mutant before it counts as killed.
    mutation_timeout_s: float = 10.0
    #: How long all the mutants of one measurement may take; those left are not run.
    mutation_budget_s: float = 60.0


_DEFAULTS: Final = QualitySettings()
SETTING_NAMES: Final = (
    "min_coverage",
    "never_lower_coverage",
    "max_mutants",
    "mutation_timeout_s",
    "mutation_budget_s",
)


def settings(project_settings: Mapping[str, Any]) -> QualitySettings:
    """The test-quality settings of a project, checked.

    Raises:
        InvalidInput: a value it cannot take, in one line naming the setting.
    """
    raw = {name: project_settings[name] for name in SETTING_NAMES if name in project_settings}
    minimum = raw.get("min_coverage")
    if minimum is not None and (not _number(minimum) or not 0 <= float(minimum) <= 100):
        raise errors.InvalidInput("setting min_coverage must be a percentage from 0 to 100")
    never = raw.get("never_lower_coverage", _DEFAULTS.never_lower_coverage)
    if not isinstance(never, bool):
        raise errors.InvalidInput("setting never_lower_coverage must be true or false")
    cap = raw.get("max_mutants", _DEFAULTS.max_mutants)
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
        raise errors.InvalidInput("setting max_mutants must be a whole number of 0 or more")
    timeouts = {}
    for name in ("mutation_timeout_s", "mutation_budget_s"):
        value = raw.get(name, getattr(_DEFAULTS, name))
        if not _number(value) or not 0 < float(value) <= 3600:
            raise errors.InvalidInput(f"setting {name} must be a number of seconds from 0 to 3600")
        timeouts[name] = float(value)
    return QualitySettings(
        min_coverage=float(minimum) if minimum is not None else None,
        never_lower_coverage=never,
        max_mutants=cap,
        **timeouts,
    )


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def share_percent(part: int, whole: int) -> float:
    """``part`` of ``whole`` in percent, to one decimal (all of nothing is 100)."""
    return round(100.0 * part / whole, 1) if whole else 100.0


def unavailable(reason: str) -> dict[str, Any]:
    """A figure that could not be taken, and why."""
    return {"status": UNAVAILABLE, "reason": reason}


def parse_ranges(text: str) -> list[tuple[int, int]]:
    """The ranges :func:`ranges` wrote, as (first, last) pairs."""
    spans = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("-")
        spans.append((int(first), int(last or first)))
    return spans


def mutation_figure(
    *,
    candidates: int,
    killed: int,
    survivors: Sequence[Mapping[str, Any]],
    not_run: int,
    duration_s: float,
    timed_out: int = 0,
    stopped: str | None = None,
    reused: int = 0,
) -> dict[str, Any]:
    """The mutation figure of one measurement: ``killed`` and ``survivors`` were judged."""
    judged = killed + len(survivors)
    figure: dict[str, Any] = {
        "status": MEASURED,
        "candidates": candidates,
        "mutants": judged,
        "killed": killed,
        "survived": len(survivors),
        "timed_out": timed_out,
        "not_run": not_run,
        "reused": reused,
        "score": share_percent(killed, judged) if judged else None,
        "surviving": [dict(s) for s in survivors[:MAX_KEPT]],
        "duration_s": round(duration_s, 2),
    }
    if stopped:
        figure["stopped"] = stopped
    return figure


def percent(measurement: Mapping[str, Any] | None, figure: str) -> float | None:
    """The headline percentage of a measurement: ``coverage`` (line+branch) or ``mutation``
    (score); None when it was not measured."""
    if not measurement:
        return None
    part = measurement.get(figure)
    if not isinstance(part, Mapping) or part.get("status") != MEASURED:
        return None
    value = part.get("percent" if figure == "coverage" else "score")
    return float(value) if value is not None else None


def bar_failure(
    config: QualitySettings, base: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> str | None:
    """Why the tests after the change miss the project's coverage bar; None: they meet it (or
    it cannot be judged: a coverage that could not be measured holds nothing up)."""
    now = percent(after, "coverage")
    if now is None:
        return None
    if config.min_coverage is not None and now < config.min_coverage:
        return (
            f"the tests cover {now:g} % of the component (lines and branches), below the "
            f"project's min_coverage of {config.min_coverage:g} %"
        )
    before = percent(base, "coverage")
    if config.never_lower_coverage and before is not None and now < before:
        return (
            f"the tests cover {now:g} % of the component (lines and branches), less than the "
            f"{before:g} % its tests covered at the base (never_lower_coverage)"
        )
    return None


def progress(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> dict[str, Any]:
    """What a round changed: each headline figure before and now (None: not measured)."""
    return {
        figure: {"before": percent(previous, figure), "now": percent(current, figure)}
        for figure in ("coverage", "mutation")
    }


def feedback(reason: str, measurement: Mapping[str, Any], source: str, source_path: str) -> str:
    """What the next attempt is told: why, the uncovered lines with the source around them,
    and the surviving mutants; at most :data:`MAX_FEEDBACK_CHARS` characters."""
    parts = [f"The tests pass, but {reason}."]
    coverage = measurement.get("coverage") or {}
    if coverage.get("status") == MEASURED and coverage.get("uncovered"):
        parts += [
            "",
            f"Lines of {source_path} no test runs ({coverage['uncovered']}); add tests that "
            "run them and assert what they return or do:",
            *_excerpts(source, parse_ranges(str(coverage["uncovered"]))),
        ]
    branches = coverage.get("missing_branches") or []
    if branches:
        parts += ["", "Branches never taken (from line -> to line): " + ", ".join(branches)]
    mutation = measurement.get("mutation") or {}
    survivors = mutation.get("surviving") or []
    if survivors:
        parts += [
            "",
            "Changes to the source that no test noticed (a good test fails when one is made):",
            *(
                f"  line {s['line']}: {s['original']!s} -> {s['mutated']!s}"
                for s in survivors
                if isinstance(s, Mapping)
            ),
        ]
    text = "\n".join(parts)
    if len(text) > MAX_FEEDBACK_CHARS:
        text = text[: MAX_FEEDBACK_CHARS - 20].rstrip() + "\n… (cut)"
    return text


def _excerpts(source: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    lines = source.splitlines()
    shown: list[str] = []
    for first, last in spans:
        low, high = max(1, first - CONTEXT_LINES), min(len(lines), last + CONTEXT_LINES)
        shown.append(f"  lines {first}-{last}:" if first != last else f"  line {first}:")
        for number in range(low, high + 1):
            mark = ">" if first <= number <= last else " "
            shown.append(f"  {mark}{number:5d} | {lines[number - 1]}")
    return shown


def headline(document: Mapping[str, Any] | None) -> dict[str, Any]:
    """A component's figures for views: coverage and mutation score at the base and after,
    the lines no test runs after, and how many mutants survived (None: not measured)."""
    base = (document or {}).get("base")
    after = (document or {}).get("after")
    coverage = (after or {}).get("coverage") or {}
    mutation = (after or {}).get("mutation") or {}
    return {
        "coverage": {"base": percent(base, "coverage"), "after": percent(after, "coverage")},
        "mutation": {"base": percent(base, "mutation"), "after": percent(after, "mutation")},
        "uncovered": coverage.get("uncovered") if coverage.get("status") == MEASURED else None,
        "surviving": mutation.get("survived") if mutation.get("status") == MEASURED else None,
        "unavailable": {
            name: part["reason"]
            for name, part in (("coverage", coverage), ("mutation", mutation))
            if part.get("status") in (UNAVAILABLE, DISABLED) and part.get("reason")
        },
    }


def arrow(pair: Mapping[str, float | None]) -> str:
    """A table cell: "base→after" in percent, "-" for a figure not measured, one figure when
    the component had no tests at the base."""
    base, after = pair.get("base"), pair.get("after")
    shown = "-" if after is None else f"{after:g}"
    return shown if base is None else f"{base:g}→{shown}"


def medians(documents: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """The median coverage and mutation score of a session's components, at the base and
    after (None: no component had that figure), and how many components were measured."""
    heads = [headline(d) for d in documents if d]
    summary: dict[str, Any] = {"measured": len(heads)}
    for figure in ("coverage", "mutation"):
        summary[figure] = {
            when: _median([h[figure][when] for h in heads if h[figure][when] is not None])
            for when in ("base", "after")
        }
    return summary


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered, middle = sorted(values), len(values) // 2
    found = ordered[middle] if len(values) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return round(found, 1)
