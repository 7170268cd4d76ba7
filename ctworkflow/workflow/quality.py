"""A component run's test-quality measurements: at the base, after each passing test run, and
the project's coverage bar (see ``docs/test-quality.md``).

The figures go into the run's interactions (each passing ``run_tests`` records its measurement
and what changed since the previous one) and into the artifact's report (``quality``: base and
after). A component whose passing tests miss the bar fails that run, and the next attempt is
told which lines no test runs and which mutants survived.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctworkflow import errors
from ctworkflow.domain import quality
from ctworkflow.domain.model import TestReport
from ctworkflow.runners import measure
from ctworkflow.workflow.environment import Prepared

logger = logging.getLogger(__name__)

ELIXIR_UNAVAILABLE = (
    "not measured for Elixir components yet: mix test --cover reports per module of the whole "
    "run, and no Elixir mutator is written"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Judged:
    """A passing test run, measured: its figures, what changed, and whether it meets the bar."""

    measurement: dict[str, Any]
    progress: dict[str, Any]
    #: Why it misses the bar (None: it meets it), and what the next attempt is told.
    failure: str | None = None
    feedback: str | None = None

    def data(self) -> dict[str, Any]:
        """What the run's interaction records of it."""
        return {"quality": self.measurement, "quality_progress": self.progress}


class Gauge:
    """Measures one component's test file in one workspace, and keeps the figures."""

    def __init__(
        self,
        *,
        runner: str,
        project_settings: Any,
        target: measure.Target,
        test_timeout_s: float,
    ) -> None:
        self.runner, self.target, self.test_timeout_s = runner, target, test_timeout_s
        try:
            self.config = quality.settings(project_settings)
        except errors.InvalidInput as error:  # a project created before the check existed
            logger.warning("test-quality settings ignored: %s", error)
            self.config = quality.QualitySettings()
        #: The test file at the base (None: it had none), and the newest measurement after.
        self.base: dict[str, Any] | None = None
        self.after: dict[str, Any] | None = None
        #: The mutants the base's tests killed: the changed file keeps those tests.
        self.kills: measure.Kills = set()

    @classmethod
    def of(
        cls,
        *,
        runner: str,
        project_settings: Any,
        workspace: Path,
        paths: tuple[str, str],
        seed: str,
        ready: Prepared,
        should_stop: Callable[[], bool],
        test_timeout_s: float,
    ) -> Gauge:
        """The gauge of a component whose (source, test) ``paths`` are in ``workspace``."""
        source_path, test_path = paths
        target = measure.Target(
            workspace=workspace,
            source_path=source_path,
            test_path=test_path,
            environment=ready.environment,
            seed=seed,
            should_stop=should_stop,
        )
        return cls(
            runner=runner,
            project_settings=project_settings,
            target=target,
            test_timeout_s=test_timeout_s,
        )

    def measure(self, report: TestReport, kills: measure.Kills | None = None) -> dict[str, Any]:
        """Measure the test file as it is now (``report``: what its run found)."""
        if self.runner != "pytest":
            why = (
                ELIXIR_UNAVAILABLE
                if self.runner == "mix"
                else f"not measured for the {self.runner} runner"
            )
            gone = quality.unavailable(why)
            return {"coverage": gone, "mutation": gone, "duration_s": 0.0}
        try:
            return measure.measure(
                self.target,
                self.config,
                timeout_s=self.test_timeout_s,
                tests_pass=report.all_passed,
                kills=kills,
            )
        except errors.SandboxUnavailable as error:
            gone = quality.unavailable(str(error))
            return {"coverage": gone, "mutation": gone, "duration_s": 0.0}

    def at_base(self, report: TestReport) -> dict[str, Any]:
        """Measure the component's existing test file at the base."""
        self.base = self.measure(report, self.kills)
        return self.base

    def judge(self, report: TestReport) -> Judged:
        """Measure a passing run of the changed test file and hold it to the bar."""
        previous = self.after or self.base
        self.after = self.measure(report, set(self.kills))
        progress = quality.progress(previous, self.after)
        failure = quality.bar_failure(self.config, self.base, self.after)
        if failure is None:
            return Judged(measurement=self.after, progress=progress)
        source = measure.source_text(self.target) or ""
        text = quality.feedback(failure, self.after, source, self.target.source_path)
        return Judged(measurement=self.after, progress=progress, failure=failure, feedback=text)

    def uncovered(self) -> tuple[tuple[int, int], ...]:
        """The lines no test ran in the newest measurement of this run, as (first, last)
        ranges (an agent that can aim at lines does: ``AgentRequest.uncovered``)."""
        coverage = (self.after or self.base or {}).get("coverage") or {}
        if coverage.get("status") != quality.MEASURED:
            return ()
        return tuple(quality.parse_ranges(str(coverage.get("uncovered") or "")))

    def document(self) -> dict[str, Any] | None:
        """The artifact report's ``quality``: base and after (None: nothing was measured)."""
        if self.after is None and self.base is None:
            return None
        return {"base": self.base, "after": self.after}

    def reported(self, report: TestReport) -> TestReport:
        """``report`` with the figures measured so far."""
        return dataclasses.replace(
            report,
            quality=self.document(),
            coverage=quality.percent(self.after, "coverage"),
        )
