"""What a component run's change to its workspace touched, and what that means.

Pure: the caller lists the changed paths (``git status`` of the workspace); these functions
tell which of them matter (build output is not a change), which the agent was not allowed to
make, whether it kept the existing test file as it was, and which test files a commit holds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from ctworkflow.domain.repository.layouts import Layout, is_build_output


def without_build_output(layout: Layout, changed: Iterable[str]) -> list[str]:
    """The changed paths that are not build output of the layout (caches, compiled files)."""
    return [path for path in changed if not is_build_output(layout, path)]


def outside_allowed(changed: Iterable[str], *, test_path: str, support_dir: str) -> list[str]:
    """The changed paths an agent may not write, sorted: anything but the test file and, when
    the layout has one, the files under the support folder."""
    allowed_root = f"{support_dir}/" if support_dir else None
    return sorted(
        path
        for path in changed
        if path != test_path and (allowed_root is None or not path.startswith(allowed_root))
    )


def kept_existing(test_path: str, changed: Collection[str], *, existed: bool, passes: bool) -> bool:
    """Whether the agent kept the component's existing test file exactly as it was and it
    passes: a valid outcome, though nothing changed."""
    return test_path not in changed and existed and passes


def committed_and_kept(
    test_paths: Collection[str], changed: Collection[str]
) -> tuple[list[str], list[str]]:
    """The test files a commit holds (those that changed), and those kept as they were; both
    sorted."""
    committed = sorted(set(test_paths) & set(changed))
    return committed, sorted(set(test_paths) - set(committed))
