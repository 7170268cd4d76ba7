"""Real third-party packages, fetched at test time from the package index (never committed).

:func:`fetch_sdist` downloads one source distribution through the index's JSON simple API
(PEP 691), checks its sha256 against the index's, and unpacks it; downloads are kept in a
cache folder (``CTWTEST_SDIST_CACHE``, else ``~/.cache/ctworkflow-tests/sdists``) so a second
run on the same machine reads no network. :func:`as_repository` turns an unpacked package into
a git repository with a bare remote, the way its authors' repository would look: files their
build generates (a setuptools-scm ``_version.py``) are left out, as their ``.gitignore`` would.

:func:`fetch_eex` does the same for a real library-style Elixir project: the EEx library
inside Debian's source package of Elixir 1.14.0 (the version Debian installs), pinned by its
sha256. ``lib/eex/`` of that archive is a mix project of its own (``mix.exs``, ``lib/eex.ex``,
``lib/eex/*.ex``, ``test/eex/*_test.exs``) whose ``mix test`` passes with the installed mix.

A machine that cannot reach the index fails the test with one line saying so: never a skip.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ctworkflow.domain.model import Scope
from ctworkflow.persistence.db import unit_of_work
from tests.factories import new_project

INDEX = "https://pypi.org/simple"
_ACCEPT = "application/vnd.pypi.simple.v1+json"
_IDENTITY = ("-c", "user.name=upstream author", "-c", "user.email=upstream@localhost")


def _cache_dir() -> Path:
    configured = os.environ.get("CTWTEST_SDIST_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "ctworkflow-tests/sdists"


def _normalized(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def _sdist_entry(name: str, version: str) -> dict[str, object]:
    request = urllib.request.Request(f"{INDEX}/{name}/", headers={"Accept": _ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            listing = json.load(response)
    except (urllib.error.URLError, TimeoutError) as error:
        pytest.fail(f"cannot reach the package index for {name}=={version}: {error}")
    for entry in listing["files"]:
        filename = str(entry["filename"])
        if not filename.endswith(".tar.gz"):
            continue
        found_name, _, found_version = filename.removesuffix(".tar.gz").rpartition("-")
        if _normalized(found_name) == _normalized(name) and found_version == version:
            return dict(entry)
    pytest.fail(f"the package index has no source distribution of {name}=={version}")


def fetch_sdist(name: str, version: str, dest: Path) -> Path:
    """Unpack the source distribution of ``name==version`` under ``dest``; its folder."""
    cache = _cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / f"{_normalized(name)}-{version}.tar.gz"
    if not archive.is_file():
        entry = _sdist_entry(name, version)
        with urllib.request.urlopen(str(entry["url"]), timeout=120) as response:
            data = response.read()
        expected = dict(entry["hashes"])["sha256"]  # type: ignore[call-overload]
        if hashlib.sha256(data).hexdigest() != expected:
            pytest.fail(f"{name}=={version} from the index does not match its sha256")
        partial = archive.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(archive)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive.read_bytes())) as tar:
        tops = {member.name.split("/", 1)[0] for member in tar.getmembers()}
        _extract(tar, dest, tar.getmembers())
    if len(tops) != 1:
        pytest.fail(f"{name}=={version}: expected one folder in its sdist, found {sorted(tops)}")
    return dest / tops.pop()


#: Debian's source archive of Elixir 1.14.0, and its sha256 (as listed in the package's .dsc).
ELIXIR_ORIG = (
    "http://deb.debian.org/debian/pool/main/e/elixir-lang/elixir-lang_1.14.0.dfsg.orig.tar.xz",
    "3dfa724f36b90d1bc41b9626a8ea0c293255c3a21a4d608c576ce39e2a23e5c9",
)


def _fetch_archive(url: str, sha256: str) -> Path:
    """The archive at ``url``, downloaded once into the cache and checked against ``sha256``."""
    cache = _cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / url.rsplit("/", 1)[-1]
    if not archive.is_file():
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                data = response.read()
        except (urllib.error.URLError, TimeoutError) as error:
            pytest.fail(f"cannot download {url}: {error}")
        if hashlib.sha256(data).hexdigest() != sha256:
            pytest.fail(f"{url} does not match its sha256 {sha256}")
        partial = archive.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(archive)
    elif hashlib.sha256(archive.read_bytes()).hexdigest() != sha256:
        pytest.fail(f"the cached {archive} does not match its sha256; delete it")
    return archive


def fetch_eex(dest: Path) -> Path:
    """Unpack the EEx library (a mix project) of Elixir 1.14.0's sources as ``dest/eex``."""
    archive = _fetch_archive(*ELIXIR_ORIG)
    prefix = "elixir-1.14.0/lib/eex/"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix) and m.isfile()]
        if not members:
            pytest.fail(f"{archive.name} holds no {prefix}")
        staging = dest / ".unpack"
        _extract(tar, staging, members)
    target = dest / "eex"
    (staging / prefix).rename(target)
    shutil.rmtree(staging)
    return target


def _extract(tar: tarfile.TarFile, dest: Path, members: list[tarfile.TarInfo]) -> None:
    """Unpack regular files and folders only, each inside ``dest`` (Python's ``data`` filter,
    which Debian's Python 3.11.2 lacks, refuses the rest likewise)."""
    root = dest.resolve()
    for member in members:
        target = (dest / member.name).resolve()
        if not target.is_relative_to(root) or not (member.isfile() or member.isdir()):
            pytest.fail(f"archive member {member.name!r} would land outside {dest} or is a link")
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        source = tar.extractfile(member)
        assert source is not None
        with source, target.open("wb") as out:
            shutil.copyfileobj(source, out)
        target.chmod(0o755 if member.mode & 0o111 else 0o644)


def git(*args: str, cwd: Path) -> str:
    """Run git as the package's authors; return its output."""
    done = subprocess.run(
        ["git", *_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class UpstreamRepo:
    """A real package as its authors' repository: a working clone and its bare remote."""

    work: Path
    remote: Path

    def commit_all(self, message: str) -> str:
        """Commit every change in the working clone, push it; the new head."""
        git("add", "--all", cwd=self.work)
        git("commit", "--quiet", "-m", message, cwd=self.work)
        git("push", "--quiet", "origin", "main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)


#: What an sdist carries that its authors' repository does not (build metadata).
_SDIST_ONLY = ("PKG-INFO", "*.egg-info")


def as_repository(
    source: Path, root: Path, *, generated: Iterable[str] = (), tag: str | None = None
) -> UpstreamRepo:
    """Publish an unpacked package as ``root/work`` with the bare remote ``root/remote.git``.

    ``generated`` lists repository paths the package's build writes (and its ``.gitignore``
    ignores); they are removed and ignored, as in the authors' own repository. ``tag`` tags
    the commit as its release (a build that reads its version from git needs it).
    """
    work, remote = root / "work", root / "remote.git"
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, work, ignore=shutil.ignore_patterns(*_SDIST_ONLY))
    ignored = list(generated)
    for relative in ignored:
        (work / relative).unlink(missing_ok=True)
    if ignored:
        with (work / ".gitignore").open("a", encoding="utf-8") as handle:
            handle.write("".join(f"/{relative}\n" for relative in ignored))
    git("init", "--bare", "--quiet", "--initial-branch=main", str(remote), cwd=root)
    git("init", "--quiet", "--initial-branch=main", str(work), cwd=root)
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", f"Import {source.name}", cwd=work)
    git("remote", "add", "origin", str(remote), cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    if tag is not None:
        git("tag", tag, cwd=work)
        git("push", "--quiet", "origin", tag, cwd=work)
    return UpstreamRepo(work=work, remote=remote)


def register(
    upstream: UpstreamRepo,
    layout: str,
    settings: Iterable[tuple[str, object]] = (),
    *,
    quality_checks: bool = False,
) -> Scope:
    """Register ``upstream`` as a project of a new account, with the scaffold agent; its
    sessions skip the check for flaky tests and the mutants unless ``quality_checks`` keeps the
    product's defaults (:func:`tests.factories.new_project`)."""
    with unit_of_work() as uow:
        return new_project(
            uow,
            str(upstream.remote),
            layout,
            {"agent": "scaffold", **dict(settings)},
            name="real",
            quality_checks=quality_checks,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BehaviourCase:
    """A real package, its tests removed, to compare what agents write for its components."""

    name: str
    version: str
    #: The context a session tests, and its components (modules).
    context: str
    components: tuple[str, ...]
    #: The release tag (a build that reads its version from git needs it).
    tag: str | None = None


#: humanize 4.9.0: a src layout, four modules beside its ``__init__`` (filesize, i18n, number,
#: time; 1,500 lines), no dependencies, a version read from git (hatch-vcs). Pynguin writes
#: value assertions for each (``naturalsize(value=2341) == "2.3 kB"``).
HUMANIZE = BehaviourCase(
    name="humanize",
    version="4.9.0",
    context="humanize",
    components=("humanize.filesize", "humanize.i18n", "humanize.number", "humanize.time"),
    tag="4.9.0",
)


def without_tests(case: BehaviourCase, root: Path) -> UpstreamRepo:
    """``case``'s package from the index as its authors' repository, with every test of its
    own removed first (its ``tests`` folders and ``test_*.py`` files): a context with no tests
    yet, as a new user's would be."""
    source = fetch_sdist(case.name, case.version, root / "sdist")
    for folder in [p for p in source.rglob("tests") if p.is_dir()]:
        shutil.rmtree(folder)
    for file in [
        *source.rglob("test_*.py"),
        *source.rglob("*_test.py"),
        *source.rglob("conftest.py"),
    ]:
        file.unlink()
    return as_repository(source, root / "upstream", tag=case.tag)
