"""What the built-in agents share about the files they read and write."""

from __future__ import annotations

from typing import Final

from ctworkflow.agents.base import AgentRequest
from ctworkflow.config import get_settings
from ctworkflow.effects import nofollow

#: The largest source file the scaffold agent reads.
SOURCE_MAX_BYTES: Final = 16 << 20


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
        text = nofollow.read_text(
            request.workspace,
            request.test_path,
            max_bytes=get_settings().max_test_file_bytes,
            setting="CTW_MAX_TEST_FILE_BYTES",
        )
    except FileNotFoundError:
        return None
    return None if text.startswith(own_header) else text
