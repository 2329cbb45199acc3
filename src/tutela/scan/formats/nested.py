"""Scanning one member of a container, whatever its name, by its content.

Every container scanner (zip, tar, 7z, single-stream compressors) hands each member's
decompressed stream to :func:`scan_stream`. The member's first bytes decide: a pickle
is streamed straight into the pickle engine; another scannable format is spooled to a
bounded temporary file and dispatched one nesting level deeper; text and raw data
(tensor storages) are left alone.
"""

from __future__ import annotations

import io
from contextlib import suppress

from tutela.filetype.detect import detect
from tutela.scan.formats.interface import HEAD_BYTES, LimitHit, ScanContext, Subject
from tutela.scan.formats.numpy import scan_npy_stream
from tutela.scan.formats.streams import Readable, read_exact, spool

__all__ = ["PASSIVE_FORMATS", "Prepended", "scan_stream"]

# Member formats that carry nothing a loader executes: left unread past their head.
PASSIVE_FORMATS = frozenset({"text", "other", "empty", "unknown"})


class Prepended(io.RawIOBase):
    """A stream whose first bytes were already read: serves them again, then the rest."""

    def __init__(self, head: bytes, rest: Readable) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        if not data:
            return 0
        buffer[: len(data)] = data
        return len(data)


def scan_stream(
    ctx: ScanContext,
    parent: Subject,
    name: str,
    stream: Readable,
    *,
    size_hint: int | None = None,
) -> str:
    """Scan the member ``name`` of ``parent`` read from ``stream``; return its format."""
    member = parent.child(name)
    head = read_exact(stream, HEAD_BYTES)
    size = size_hint if size_hint is not None and size_hint > len(head) else len(head)
    if len(head) == HEAD_BYTES and size <= len(head):
        size = len(head) + 1  # more follows: let detection treat the head as cut
    found = detect(head, size).format
    if found in PASSIVE_FORMATS:
        return found
    full = io.BufferedReader(Prepended(head, stream), buffer_size=64 * 1024)
    if found == "pickle":
        ctx.scan_pickle_stream(ctx, full, member)
        _reraise_limit(stream)
        return found
    if found == "npy":  # header then data: no need to copy the array anywhere
        scan_npy_stream(ctx, full, member, size_hint)
        _reraise_limit(stream)
        return found
    if parent.depth + 1 > ctx.limits.max_nesting:
        ctx.limit(f"nesting deeper than {ctx.limits.max_nesting} containers", member=member)
        return found
    target = ctx.temp_path()
    try:
        written = spool(full, target, ctx.check_time)
        ctx.dispatch(
            ctx,
            Subject(
                path=target,
                member=member,
                size=written,
                head=head,
                format=found,
                depth=parent.depth + 1,
            ),
        )
    finally:
        with suppress(OSError):
            target.unlink()
    return found


def _reraise_limit(stream: object) -> None:
    """The pickle engine may turn a read error into 'inconclusive'; a limit must stay loud."""
    hit = getattr(stream, "limit_hit", None)
    if isinstance(hit, LimitHit):
        raise hit
