"""Test files in a workspace, read and written without following a link the repository has
there (:mod:`ctworkflow.effects.nofollow`) and within the size limits of the settings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ctworkflow import errors
from ctworkflow.config import Settings
from ctworkflow.domain import model
from ctworkflow.effects import nofollow

#: The setting that limits a test file's size, named in the errors.
TEST_FILE_LIMIT = "CTW_MAX_TEST_FILE_BYTES"


def read_at_base(workspace: Path, test_path: str, settings: Settings) -> str | None:
    """The test file at the base, if there is a regular one (a link is refused by
    :func:`write_artifacts`)."""
    try:
        return nofollow.read_text(
            workspace, test_path, max_bytes=settings.max_test_file_bytes, setting=TEST_FILE_LIMIT
        )
    except (OSError, errors.UnsafeFile, errors.LimitExceeded):
        return None


def write_artifacts(
    workspace: Path, artifacts: Sequence[model.Artifact], settings: Settings
) -> dict[str, model.TestReport]:
    """Write each artifact's test file, never through a link the repository has there.

    Returns the refused ones (a link or a non-regular file at the path, over the size limit),
    each with a report saying why.
    """
    refused: dict[str, model.TestReport] = {}
    for artifact in artifacts:
        try:
            nofollow.write_text(
                workspace,
                artifact.test_path,
                artifact.content,
                max_bytes=settings.max_test_file_bytes,
                setting=TEST_FILE_LIMIT,
            )
        except (errors.UnsafeFile, errors.LimitExceeded) as error:
            reason = f"{error} (in the repository at the base commit)"
            refused[artifact.test_path] = model.TestReport(errors=1, output_tail=reason)
    return refused


def read_artifact(
    workspace: Path, test_path: str, settings: Settings, report: model.TestReport | None
) -> tuple[str | None, str | None]:
    """The test file to keep as the artifact, or why it is refused (a link, over a limit)."""
    try:
        content = nofollow.read_text(
            workspace, test_path, max_bytes=settings.max_test_file_bytes, setting=TEST_FILE_LIMIT
        )
    except (errors.UnsafeFile, errors.LimitExceeded) as error:
        return None, str(error)
    except OSError:  # none there, or unreadable: no artifact
        return None, None
    size = len(content.encode()) + len(json.dumps((report or model.TestReport()).to_json()))
    if size > settings.max_artifact_bytes:
        limit = errors.LimitExceeded(
            f"the artifact of {test_path}",
            size,
            settings.max_artifact_bytes,
            "CTW_MAX_ARTIFACT_BYTES",
        )
        return None, str(limit)
    return content, None
