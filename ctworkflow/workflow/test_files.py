"""Test files in a workspace, read and written without following a link the repository has
there (:mod:`ctworkflow.effects.nofollow`) and within the size limits of the settings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from ctworkflow import errors, ports
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
    workspace: Path, files: Iterable[tuple[str, str]], settings: Settings
) -> dict[str, model.TestReport]:
    """Write each test file (path, content) as it comes, never through a link the repository
    has there.

    Returns the refused ones (a link or a non-regular file at the path, over the size limit),
    each with a report saying why.
    """
    refused: dict[str, model.TestReport] = {}
    for test_path, content in files:
        try:
            nofollow.write_text(
                workspace,
                test_path,
                content,
                max_bytes=settings.max_test_file_bytes,
                setting=TEST_FILE_LIMIT,
            )
        except (errors.UnsafeFile, errors.LimitExceeded) as error:
            reason = f"{error} (in the repository at the base commit)"
            refused[test_path] = model.TestReport(errors=1, output_tail=reason)
    return refused


def stored(
    transactions: ports.Transactions, scope: model.Scope, heads: Sequence[model.ArtifactHead]
) -> Iterator[tuple[str, str]]:
    """The test files of ``heads`` (path, content), read from the store a page at a time as
    :func:`write_artifacts` writes them: a round's files are never all in memory at once."""
    paths = {head.id: head.test_path for head in heads}
    with transactions() as uow:
        for artifact_id, content in uow.sessions.artifact_contents(scope, list(paths)):
            yield paths[artifact_id], content


def digest(content: str) -> str:
    """A test file's digest, as its artifact records it (SHA-256 of UTF-8, hex)."""
    return hashlib.sha256(content.encode()).hexdigest()


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
