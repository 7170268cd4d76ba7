"""What the tests of :mod:`ctworkflow.effects.git` share: a bare repository playing the remote,
seeded through a clone, and git commands of the tests' own, with no machine configuration."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

_IDENTITY = ("-c", "user.name=Test Seeder", "-c", "user.email=seed@example.invalid")


@dataclass(frozen=True, slots=True, kw_only=True)
class Remote:
    """The bare repository standing for the remote, its seed clone and its first commit."""

    url: str
    bare: Path
    seed: Path
    base: str


def run_git(*args: str, cwd: Path) -> str:
    """Run a helper git command of the test itself and return its output."""
    done = subprocess.run(
        ["git", *_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout


def seed_commit(seed: Path, name: str, text: str) -> str:
    """Commit one file in the seed clone, push it to ``main`` and return the commit."""
    (seed / name).write_text(text)
    run_git("add", "--", name, cwd=seed)
    run_git("commit", "--quiet", "-m", f"add {name}", cwd=seed)
    run_git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=seed)
    return run_git("rev-parse", "HEAD", cwd=seed).strip()


def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the system's nor the user's git configuration leaks into a test."""
    config = tmp_path / "gitconfig"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.chdir(tmp_path)


def make_remote(tmp_path: Path) -> Remote:
    """A bare repository with one commit on ``main`` (``src/module.py`` and ``README.md``)."""
    bare = tmp_path / "remote.git"
    run_git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=tmp_path)
    seed = tmp_path / "seed"
    run_git("clone", "--quiet", str(bare), str(seed), cwd=tmp_path)
    (seed / "src").mkdir()
    (seed / "src" / "module.py").write_text("VALUE = 1\n")
    run_git("add", "--", "src/module.py", cwd=seed)
    base = seed_commit(seed, "README.md", "hello\n")
    return Remote(url=str(bare), bare=bare, seed=seed, base=base)
