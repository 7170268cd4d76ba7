"""git through :func:`ctworkflow.effects.shell.run`: one bare mirror per remote, worktrees, pushes.

Every command is an argv list ``["git", ...]`` run with ``cwd=``; commit messages go through
stdin (``git commit -F -``). Mirrors live in ``cache_dir/mirrors/<sha256(remote)[:16]>.git``;
every change to a mirror (creation, fetch, worktree add/remove) holds an exclusive
``fcntl.flock`` on ``cache_dir/mirrors/<key>.lock``, which serialises threads and processes.

Credentials are never stored by this package: they come from the worker's git configuration
and credential helper. A remote URL that carries userinfo is the caller's choice and ends up in
the mirror's git config as given, but every error message and log line goes through
:func:`redact`.

:class:`Git` is assembled from one part per concept: :mod:`.mirrors`, :mod:`.worktrees`,
:mod:`.reading` (commits read from the mirror), :mod:`.commits` (committing in a worktree) and
:mod:`.pushes` (branches on the remote, moved under a lease); :mod:`.base` runs one command.
"""

from __future__ import annotations

from ctworkflow.effects.git.commits import Committing
from ctworkflow.effects.git.pushes import Pushing
from ctworkflow.effects.git.reading import Reading
from ctworkflow.effects.git.redaction import redact
from ctworkflow.effects.git.worktrees import Worktrees

__all__ = ["Git", "redact"]


class Git(Worktrees, Reading, Committing, Pushing):
    """git for the workflow: cached mirrors, throwaway worktrees, guarded pushes."""
