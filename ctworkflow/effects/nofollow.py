"""Files of a workspace, read and written without following a link.

Test and source files are given as paths relative to a workspace. Each folder on the way is
opened with ``O_NOFOLLOW | O_DIRECTORY`` relative to the one before, and the file itself with
``O_NOFOLLOW``, so a symbolic link anywhere on the path (a repository's, or one an agent made)
is refused instead of followed out of the workspace. A file that is not a regular file (a
folder, a FIFO, a device) or that has other hard links is refused too, and so is one over its
size limit. Every refusal says which file and why.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Final

from ctworkflow import errors

__all__ = ["check", "read_bytes", "read_text", "write_text"]

_DIR_FLAGS: Final = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_WRITE_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def check(
    root: Path, relative: str, *, max_bytes: int, what: str = "test file", setting: str = ""
) -> int | None:
    """The size of a regular file at ``root/relative``, or None if there is none.

    Raises:
        UnsafeFile: a link or a non-regular file is on the path.
        LimitExceeded: the file is over ``max_bytes``.
    """
    parts = _parts(relative, what)
    try:
        with _parent(root, parts, what, relative, create=False) as parent:
            try:
                info = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                return None
    except FileNotFoundError:
        return None
    _check_regular(info, what, relative)
    _check_size(info.st_size, max_bytes, what, relative, setting)
    return info.st_size


def read_text(
    root: Path, relative: str, *, max_bytes: int, what: str = "test file", setting: str = ""
) -> str:
    """The UTF-8 text of the regular file ``root/relative``.

    Raises:
        FileNotFoundError: there is no such file.
        UnsafeFile: a link or a non-regular file is on the path, or the file is not UTF-8.
        LimitExceeded: the file is over ``max_bytes``.
    """
    data = read_bytes(root, relative, max_bytes=max_bytes, what=what, setting=setting)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.UnsafeFile(f"{what} {relative} is not UTF-8 text") from None


def read_bytes(
    root: Path, relative: str, *, max_bytes: int, what: str = "test file", setting: str = ""
) -> bytes:
    """The content of the regular file ``root/relative`` (see :func:`read_text`)."""
    parts = _parts(relative, what)
    with _parent(root, parts, what, relative, create=False) as parent:
        try:
            fd = os.open(parts[-1], _READ_FLAGS, dir_fd=parent)
        except OSError as error:
            raise _refusal(error, parent, parts[-1], what, relative) from None
    try:
        info = os.fstat(fd)
        _check_regular(info, what, relative)
        _check_size(info.st_size, max_bytes, what, relative, setting)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)  # it may have grown since the fstat
    finally:
        os.close(fd)
    _check_size(len(data), max_bytes, what, relative, setting)
    return data


def write_text(
    root: Path,
    relative: str,
    content: str,
    *,
    max_bytes: int,
    what: str = "test file",
    setting: str = "",
) -> None:
    """Write ``content`` to ``root/relative``, creating its folders, never through a link.

    Raises:
        UnsafeFile: a link or a non-regular file is on the path or at it.
        LimitExceeded: ``content`` is over ``max_bytes``.
    """
    data = content.encode("utf-8")
    _check_size(len(data), max_bytes, what, relative, setting)
    parts = _parts(relative, what)
    with _parent(root, parts, what, relative, create=True) as parent:
        try:
            fd = os.open(parts[-1], _WRITE_FLAGS, 0o644, dir_fd=parent)
        except OSError as error:
            raise _refusal(error, parent, parts[-1], what, relative) from None
    try:
        _check_regular(os.fstat(fd), what, relative)
        os.ftruncate(fd, 0)  # only now: truncating a file linked elsewhere is refused above
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _parts(relative: str, what: str) -> tuple[str, ...]:
    path = PurePosixPath(relative)
    if (
        not relative
        or path.is_absolute()
        or "\x00" in relative
        or any(part in ("..", ".") for part in relative.split("/"))
        or not path.parts
    ):
        raise errors.UnsafeFile(f"{what} {relative!r} is outside the workspace")
    return path.parts


@contextmanager
def _parent(
    root: Path, parts: tuple[str, ...], what: str, relative: str, *, create: bool
) -> Iterator[int]:
    """The open folder that holds ``parts[-1]``, reached one folder at a time, never via a link."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in parts[:-1]:
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(name, 0o755, dir_fd=fd)
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as error:
                raise _refusal(error, fd, name, what, relative) from None
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def _refusal(error: OSError, parent: int, name: str, what: str, relative: str) -> Exception:
    """Why opening ``name`` failed, as an UnsafeFile when a link or an odd file is the cause."""
    if error.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EISDIR, errno.ENXIO):
        return error
    try:
        info = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except OSError:
        return error
    where = "" if name == PurePosixPath(relative).name else f" ({name} on its path)"
    return errors.UnsafeFile(f"{what} {relative}{where} is {_kind(info.st_mode)}; refused")


def _check_regular(info: os.stat_result, what: str, relative: str) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise errors.UnsafeFile(f"{what} {relative} is {_kind(info.st_mode)}; refused")
    if info.st_nlink > 1:
        raise errors.UnsafeFile(f"{what} {relative} has other hard links; refused")


def _check_size(size: int, max_bytes: int, what: str, relative: str, setting: str) -> None:
    if size > max_bytes:
        raise errors.LimitExceeded(
            f"{what} {relative}", size, max_bytes, setting or "a fixed limit"
        )


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "a named pipe, not a regular file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file"
    return "not a regular file"
