"""What changed in a kept workspace since it was last proven clean, found without a tree walk.

Creating, removing or renaming any entry of a folder (tracked, untracked or ignored) gives the
folder a new change time, which no process can set back (``utime`` moves it forward too). A
:class:`Snapshot` records the inode and times of every folder of the commit once the workspace
is clean; later only the folders whose record moved are read, so finding a run's new files
costs one ``lstat`` per folder and one listing per folder the run touched, not a walk of every
file. Files changed in place keep their folder's times: git's own index check finds those.

A folder changed within :data:`RACY_NS` of the snapshot is read every time, since a change in
the same tick of the file system's clock can leave its times equal (git's "racy" entries).

A slot's snapshot may also carry what its last run's change check found of the tracked files
(:attr:`Snapshot.tracked`), kept only when no program ran after that check: the next reset then
undoes those instead of asking git to ``lstat`` every tracked file again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: How close to the snapshot a folder's change time must be to be read again regardless.
RACY_NS = 1_000_000_000

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_TREE_CACHE_SIZE = 8
_TREES: dict[str, Tree] = {}
_TREES_LOCK = threading.Lock()  # a process's threads share the cache

#: A folder's identity and times: inode, change time and modification time (ns).
Stamp = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Tree:
    """The folders of a commit and, for each, its entries (name → whether it is a folder)."""

    folders: Mapping[str, Mapping[str, bool]]
    has_submodules: bool


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every folder of ``commit`` in a workspace, stamped when it was proven clean."""

    commit: str
    taken_ns: int
    link: Stamp | None  # the worktree's ``.git`` file: a run that rewrites it is seen
    stamps: Mapping[str, Stamp | None]  # None: missing, or not a real folder
    #: git's "XY path" entries of the tracked files the last run changed, as its final change
    #: check found them (None: unknown, git is asked); ``index`` is the index file's stamp then.
    tracked: tuple[str, ...] | None = None
    index: Stamp | None = None


def parse_tree(listing: str) -> Tree:
    """Read ``git ls-tree -r -t -z --full-tree`` output ("<mode> <type> <oid>\\t<path>")."""
    folders: dict[str, dict[str, bool]] = {"": {}}
    submodules = False
    for record in listing.split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")
        kind = meta.split(" ")[1]
        parent, _, name = path.rpartition("/")
        folders.setdefault(parent, {})[name] = kind == "tree"
        if kind == "tree":
            folders.setdefault(path, {})
        submodules = submodules or kind == "commit"
    return Tree(folders=folders, has_submodules=submodules)


def cached_tree(commit: str) -> Tree | None:
    """The tree of ``commit`` read earlier in this process (a commit id fixes its tree)."""
    with _TREES_LOCK:
        return _TREES.get(commit)


def remember_tree(commit: str, tree: Tree) -> None:
    """Keep the tree of ``commit`` for the next runs of this process (a few commits at most)."""
    with _TREES_LOCK:
        if commit not in _TREES and len(_TREES) >= _TREE_CACHE_SIZE:
            _TREES.pop(next(iter(_TREES)))
        _TREES[commit] = tree


def take(root: Path, tree: Tree, commit: str) -> Snapshot:
    """Stamp every folder of ``tree`` under ``root`` now (the clock is read before the stamps)."""
    taken_ns = time.time_ns()
    base = f"{root}/"  # plain strings: thousands of folders, no Path objects per stamp
    stamps = {folder: _stamp(base + folder, stat.S_ISDIR) for folder in tree.folders}
    link = _stamp(f"{base}.git", stat.S_ISREG)
    return Snapshot(commit=commit, taken_ns=taken_ns, link=link, stamps=stamps)


def _stamp(path: str, kind: Callable[[int], bool]) -> Stamp | None:
    """The inode and times of ``path`` itself if it is of ``kind``, else None."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_ctime_ns, info.st_mtime_ns) if kind(info.st_mode) else None


def moved(before: Snapshot, after: Snapshot) -> list[str]:
    """Folders whose stamp changed between two snapshots, or was too recent to be trusted."""
    limit = before.taken_ns - RACY_NS
    changed = []
    for folder, stamp in after.stamps.items():
        old = before.stamps.get(folder)
        if stamp is None or old is None or stamp != old or max(old[1], old[2]) >= limit:
            changed.append(folder)
    return changed


def all_real_folders(snapshot: Snapshot) -> bool:
    """Tell whether every folder of the commit exists and is a folder (not a link)."""
    return snapshot.link is not None and all(s is not None for s in snapshot.stamps.values())


def new_entries(root: Path, tree: Tree, folders: Iterable[str]) -> list[str] | None:
    """Entries of ``folders`` that the commit does not have there, or has as another kind.

    None if one of the folders cannot be opened as a real folder (a link in its path).
    """
    found: list[str] = []
    for folder in folders:
        expected = tree.folders[folder]
        try:
            with _opened(root, folder) as fd:
                for entry in os.scandir(fd):
                    if not folder and entry.name == ".git":
                        continue  # the worktree's link to the mirror, checked on its own
                    is_dir = entry.is_dir(follow_symlinks=False)
                    if expected.get(entry.name) is not is_dir:
                        found.append(f"{folder}/{entry.name}" if folder else entry.name)
        except FileNotFoundError:
            continue  # gone with its tracked files, which git reports
        except OSError:
            return None
    return sorted(found)


def remove(root: Path, paths: Iterable[str]) -> None:
    """Delete workspace entries, each reached one folder at a time without following a link.

    Raises:
        OSError: an entry could not be removed (a link on its way included).
    """
    for path in paths:
        folder, _, name = path.rpartition("/")
        with _opened(root, folder) as fd:
            try:
                info = os.lstat(name, dir_fd=fd)
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(name, dir_fd=fd)
            else:
                os.unlink(name, dir_fd=fd)


def head(directory: Path) -> str | None:
    """The commit a worktree has checked out detached (its gitdir's ``HEAD``), or None."""
    try:
        text = (directory / ".git").read_text(encoding="utf-8")
        gitdir = Path(text.strip().removeprefix("gitdir: "))
        value = (gitdir / "HEAD").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return value if _SHA.fullmatch(value) else None


def index_stamp(directory: Path) -> Stamp | None:
    """The inode and times of a worktree's index file (a run that stages something moves it)."""
    try:
        text = (directory / ".git").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    gitdir = text.strip().removeprefix("gitdir: ")
    return _stamp(f"{gitdir}/index", stat.S_ISREG)


def state_file(directory: Path) -> Path:
    """Where the snapshot of a workspace slot is kept: beside it, out of the runs' reach."""
    return directory.with_name(f"{directory.name}.state")


def save(directory: Path, snapshot: Snapshot) -> None:
    """Write a slot's snapshot (replacing the last one at once)."""
    target = state_file(directory)
    staging = target.with_name(f"{target.name}.new")
    data = {
        "commit": snapshot.commit,
        "taken_ns": snapshot.taken_ns,
        "link": snapshot.link,
        "stamps": snapshot.stamps,
        "tracked": snapshot.tracked,
        "index": snapshot.index,
    }
    staging.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    staging.replace(target)


def load(directory: Path) -> Snapshot | None:
    """The snapshot of a slot, or None if there is none or it cannot be read."""
    try:
        data = json.loads(state_file(directory).read_text(encoding="utf-8"))
        stamps = {str(folder): _read_stamp(stamp) for folder, stamp in data["stamps"].items()}
        return Snapshot(
            commit=str(data["commit"]),
            taken_ns=int(data["taken_ns"]),
            link=_read_stamp(data["link"]),
            stamps=stamps,
            tracked=_read_entries(data.get("tracked")),
            index=_read_stamp(data.get("index")),
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _read_stamp(value: object) -> Stamp | None:
    """A stamp as :func:`save` wrote it (ValueError/TypeError if it is not one)."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise TypeError("not a stamp")
    inode, changed, modified = (int(part) for part in value)
    return (inode, changed, modified)


def _read_entries(value: object) -> tuple[str, ...] | None:
    """Tracked entries as :func:`save` wrote them (TypeError if they are not)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        raise TypeError("not a list of entries")
    return tuple(value)


def forget(directory: Path) -> None:
    """Drop a slot's snapshot (its workspace is about to change outside the fast reset)."""
    state_file(directory).unlink(missing_ok=True)


@contextmanager
def _opened(root: Path, folder: str) -> Iterator[int]:
    """An open descriptor of ``root/folder``, reached without following any link."""
    fd = os.open(root, _DIR_FLAGS)
    try:
        for name in folder.split("/") if folder else ():
            child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)
