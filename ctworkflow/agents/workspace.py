"""What the built-in agents share about the files they read and write."""

from __future__ import annotations

from typing import Final

from ctworkflow.agents.base import AgentRequest
from ctworkflow.config import get_settings
from ctworkflow.effects import nofollow

#: The largest source file the scaffold agent reads.
SOURCE_MAX_BYTES: Final = 16 << 20
#: The setting that bounds a test file.
_TEST_FILE_LIMIT: Final = "CTW_MAX_TEST_FILE_BYTES"


class ScaffoldError(Exception):
    """The scaffold cannot write tests for this source."""


def existing_content(request: AgentRequest, own_header: str) -> str | None:
    """The component's test file as it was at the base, which a scaffold only ever adds to.

    The request says so when the file existed at the base. A file in the workspace the
    request does not mention is the scaffold's own earlier output when it starts with
    ``own_header`` (None: write it anew); any other is taken as it is, never overwritten.
    Read without following a link (:mod:`ctworkflow.effects.nofollow`).
    """
    if request.existing is not None:
        return request.existing.content
    try:
        text = read_test_file(request)
    except FileNotFoundError:
        return None
    return None if text.startswith(own_header) else text


def read_test_file(request: AgentRequest) -> str:
    """The workspace's test file, read without following a link, within the size limit.

    Raises:
        FileNotFoundError: there is none.
        UnsafeFile, LimitExceeded: it is a link, or larger than ``CTW_MAX_TEST_FILE_BYTES``.
    """
    return nofollow.read_text(
        request.workspace,
        request.test_path,
        max_bytes=get_settings().max_test_file_bytes,
        setting=_TEST_FILE_LIMIT,
    )


def write_test_file(request: AgentRequest, content: str) -> None:
    """Write the workspace's test file, never through a link, within the size limit."""
    nofollow.write_text(
        request.workspace,
        request.test_path,
        content,
        max_bytes=get_settings().max_test_file_bytes,
        setting=_TEST_FILE_LIMIT,
    )
