"""Plain-text renderings shared by the API and the web view."""

from __future__ import annotations

from ctworkflow.services.session_views import OutputTail


def output_text(tail: OutputTail) -> str:
    """A session's output tails: each step's, then the newest test run's."""
    session = tail.session
    lines = [f"session {session.id} ({tail.module_name or session.component_id}): {session.status}"]
    for step in tail.steps:
        outcome = step.outcome
        state = "running" if outcome is None else outcome.status.value
        lines.append(f"\n== {step.step} (attempt {step.attempt}): {state}")
        if outcome is not None:
            if outcome.error_message:
                lines.append(f"error: {outcome.error_message}")
            transcript = outcome.data.get("transcript")
            if isinstance(transcript, str) and transcript:
                # An agent's run: what it printed, redacted and bounded, both streams.
                lines += ["-- transcript", transcript.rstrip()]
                continue
            for name, text in (("stdout", outcome.stdout_tail), ("stderr", outcome.stderr_tail)):
                if text:
                    lines += [f"-- {name} (tail)", text.rstrip()]
    report = tail.report
    if report is not None:
        lines.append(
            f"\n== newest test report: {report.passed} passed, {report.failed} failed, "
            f"{report.errors} errors, {report.skipped} skipped of {report.collected} collected"
        )
        if report.output_tail:
            lines.append(report.output_tail.rstrip())
    return "\n".join(lines) + "\n"
