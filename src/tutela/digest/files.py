"""File digests: SHA-256 of a regular file's bytes, and the safe-open helpers behind them.

Special files (fifo, socket, devices) are never opened, because opening a fifo blocks; a
file whose size or mtime changes while it is read is an error, never a digest of a torn read.
The directory walk reuses :func:`hash_regular`, :func:`special_type` and the error helpers.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from typing import Final

from tutela.digest.core import PREFIX
from tutela.errors import InputError

__all__ = [
    "EntryType",
    "FileDigest",
    "display_path",
    "file_digest",
    "hash_regular",
    "os_error",
    "special_type",
    "stat_root",
]

# 1 MiB reads: large enough that per-call overhead vanishes next to SHA-256, small enough
# to stay in cache.
_READ_SIZE: Final = 1 << 20
_OPEN_FLAGS: Final = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)

EntryType = str  # "file" | "dir" | "symlink" | "fifo" | "socket" | "char-device" | ...


@dataclass(frozen=True, slots=True)
class FileDigest:
    """The digest of a regular file and the number of bytes hashed."""

    digest: str
    size: int


def display_path(path: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> str:
    """A one-line, printable rendering of a path for error messages."""
    text = os.fsdecode(path)
    if text.isprintable():
        return text
    return text.encode("unicode_escape", "backslashreplace").decode("ascii")


def os_error(exc: OSError, path: str | bytes | os.PathLike[str]) -> InputError:
    """The one-line error for an OS failure while reading ``path``."""
    reason = exc.strerror or type(exc).__name__
    return InputError(f"cannot read: {reason.lower()}", subject=display_path(path))


def special_type(mode: int) -> EntryType | None:
    """The manifest type of a file that must never be opened, or None for file/dir/link."""
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "char-device"
    if stat.S_ISBLK(mode):
        return "block-device"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode):
        return None
    return "other"


def hash_regular(path: bytes, expected: os.stat_result, *, nofollow: bool) -> FileDigest:
    """Hash the regular file at ``path`` that a prior stat described as ``expected``.

    O_NONBLOCK keeps a fifo swapped in after the stat from blocking the open; the fstat
    identity check then refuses it (and any other replacement).
    """
    try:
        fd = os.open(path, _OPEN_FLAGS | (_NOFOLLOW if nofollow else 0))
    except OSError as exc:
        raise os_error(exc, path) from None
    try:
        before = os.fstat(fd)
        if (
            not stat.S_ISREG(before.st_mode)
            or before.st_ino != expected.st_ino
            or before.st_dev != expected.st_dev
        ):
            raise InputError(
                "changed while being read (the file was replaced)", subject=display_path(path)
            )
        hasher = hashlib.sha256()
        buffer = bytearray(_READ_SIZE)
        view = memoryview(buffer)
        total = 0
        with open(fd, "rb", buffering=0, closefd=False) as stream:
            while count := stream.readinto(view):
                hasher.update(view[:count])
                total += count
        after = os.fstat(fd)
    except OSError as exc:
        raise os_error(exc, path) from None
    finally:
        os.close(fd)
    if total != before.st_size or after.st_size != before.st_size:
        raise InputError(
            "changed while being read",
            subject=display_path(path),
            expected=f"{before.st_size} bytes",
            found=f"{total} bytes read, {after.st_size} bytes after reading",
        )
    if after.st_mtime_ns != before.st_mtime_ns:
        raise InputError(
            "changed while being read (modified during hashing)", subject=display_path(path)
        )
    return FileDigest(PREFIX + hasher.hexdigest(), total)


def stat_root(path: str | os.PathLike[str]) -> tuple[bytes, os.stat_result]:
    """Stat a path a person named, following a symlink there (they chose it)."""
    raw = os.fsencode(path)
    try:
        return raw, os.stat(raw)  # noqa: PTH116 - bytes paths keep non-UTF-8 names exact
    except FileNotFoundError:
        raise InputError("no such file or directory", subject=display_path(raw)) from None
    except OSError as exc:
        raise os_error(exc, raw) from None


def file_digest(path: str | os.PathLike[str]) -> FileDigest:
    """Stream the SHA-256 of the regular file at ``path``."""
    raw, info = stat_root(path)
    if stat.S_ISDIR(info.st_mode):
        raise InputError(
            "is a directory, expected a file",
            subject=display_path(raw),
            hint="use dir_digest or path_digest for directories",
        )
    special = special_type(info.st_mode)
    if special is not None:
        raise InputError(
            f"is a {special}, expected a regular file; special files are never opened",
            subject=display_path(raw),
        )
    return hash_regular(raw, info, nofollow=False)
