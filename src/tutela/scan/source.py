"""A forward-only byte reader that parses and hashes in one pass.

Scanners read through a ``ByteSource`` instead of the raw file object so that every byte
they consume (or skip) also feeds an optional hash, and so that large payloads (tensor
data, numpy buffers) are skipped chunk by chunk instead of being materialised. Memory use
is bounded by the chunk size, whatever the size of the stream.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Any, Protocol

__all__ = ["DEFAULT_CHUNK", "ByteSource", "Hasher"]

DEFAULT_CHUNK = 4 * 1024 * 1024
_EMPTY = b""


class Hasher(Protocol):
    """The part of a ``hashlib`` object the reader needs."""

    def update(self, data: bytes | memoryview, /) -> None: ...


class ByteSource:
    """Read, skip and peek over a binary stream, hashing every consumed byte.

    Bytes are hashed when they are consumed (``read``, ``skip``, ``readline``, ``finish``);
    peeked bytes are not hashed until consumed. ``size`` (when known) lets callers ask how
    many bytes remain without reading them.
    """

    __slots__ = (
        "_base",
        "_buf",
        "_chunk",
        "_close",
        "_eof",
        "_file",
        "_hasher",
        "_hpos",
        "_pos",
        "_scratch",
        "size",
    )

    def __init__(
        self,
        fileobj: IO[bytes] | Any,
        *,
        hasher: Hasher | None = None,
        size: int | None = None,
        chunk_size: int = DEFAULT_CHUNK,
        close: bool = False,
    ) -> None:
        self._file = fileobj
        self._hasher = hasher
        self._chunk = max(4096, int(chunk_size))
        self._close = close
        self._buf: bytes = _EMPTY
        self._pos = 0  # next unread byte in _buf
        self._hpos = 0  # bytes of _buf already fed to the hasher
        self._base = 0  # stream offset of _buf[0]
        self._eof = False
        self._scratch: bytearray | None = None
        self.size = size

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        *,
        hasher: Hasher | None = None,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> ByteSource:
        """Open ``path`` for reading; the source closes it in ``close()``."""
        handle = Path(path).open("rb", buffering=0)  # noqa: SIM115 - owned by the source
        try:
            size = os.fstat(handle.fileno()).st_size
        except OSError:
            size = None
        return cls(handle, hasher=hasher, size=size, chunk_size=chunk_size, close=True)

    @classmethod
    def from_bytes(
        cls, data: bytes | bytearray | memoryview, *, hasher: Hasher | None = None
    ) -> ByteSource:
        """Wrap an in-memory buffer."""
        raw = bytes(data)
        return cls(io.BytesIO(raw), hasher=hasher, size=len(raw))

    # -- context management -------------------------------------------------------------

    def close(self) -> None:
        """Flush the hash of consumed bytes and close the file if this source owns it."""
        self._flush_hash()
        if self._close:
            self._file.close()

    def __enter__(self) -> ByteSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- position -----------------------------------------------------------------------

    def tell(self) -> int:
        """Stream offset of the next byte to be consumed."""
        return self._base + self._pos

    def remaining(self) -> int | None:
        """Bytes left in the stream if the total size is known, else ``None``."""
        if self.size is None:
            return None
        return max(0, self.size - self.tell())

    def at_eof(self) -> bool:
        """True when no byte is left to consume."""
        if self._pos < len(self._buf):
            return False
        return not self._fill(1)

    # -- reading ------------------------------------------------------------------------

    def read_byte(self) -> int:
        """Consume one byte and return it, or -1 at end of stream."""
        pos = self._pos
        buf = self._buf
        if pos < len(buf):
            self._pos = pos + 1
            return buf[pos]
        if not self._fill(1):
            return -1
        self._pos = 1
        return self._buf[0]

    def read(self, n: int) -> bytes:
        """Consume up to ``n`` bytes; fewer only at end of stream."""
        pos = self._pos
        end = pos + n
        if end <= len(self._buf):
            self._pos = end
            return self._buf[pos:end]
        self._fill(n)
        pos = self._pos
        data = self._buf[pos : pos + n]
        self._pos = pos + len(data)
        return data

    def peek(self, n: int) -> bytes:
        """Return up to ``n`` upcoming bytes without consuming them."""
        if self._pos + n > len(self._buf):
            self._fill(n)
        return self._buf[self._pos : self._pos + n]

    def has(self, n: int, *, buffer_limit: int = 64 * 1024 * 1024) -> bool | None:
        """Whether at least ``n`` more bytes exist, without consuming them.

        Answers from ``size`` when known, otherwise by buffering up to ``buffer_limit``
        bytes; returns ``None`` when neither can tell.
        """
        left = self.remaining()
        if left is not None:
            return left >= n
        if len(self._buf) - self._pos >= n:
            return True
        if n > buffer_limit:
            return None
        return self._fill(n)

    def readline(self, cap: int) -> tuple[bytes, int, bool]:
        """Consume one line including its ``\\n``.

        Returns ``(head, length, complete)``: ``head`` holds at most ``cap`` bytes of the
        line (the rest is skipped without being kept), ``length`` the full length and
        ``complete`` whether a newline ended it (``False`` at end of stream).
        """
        head = bytearray()
        length = 0
        while True:
            buf = self._buf
            pos = self._pos
            nl = buf.find(b"\n", pos)
            stop = len(buf) if nl < 0 else nl + 1
            piece = stop - pos
            if len(head) < cap:
                head += buf[pos : min(stop, pos + cap - len(head))]
            length += piece
            self._pos = stop
            if nl >= 0:
                return bytes(head), length, True
            if not self._fill(1):
                return bytes(head), length, False

    def skip(self, n: int) -> int:
        """Consume ``n`` bytes without keeping them; return how many were skipped."""
        avail = len(self._buf) - self._pos
        if n <= avail:
            self._pos += n
            return n
        # Drop the buffer, then stream the rest through a reusable scratch buffer.
        self._pos = len(self._buf)
        done = avail
        self._flush_hash()
        self._base += len(self._buf)
        self._buf = _EMPTY
        self._pos = self._hpos = 0
        if self._scratch is None:
            self._scratch = bytearray(self._chunk)
        view = memoryview(self._scratch)
        while done < n and not self._eof:
            want = min(self._chunk, n - done)
            got = self._readinto(view[:want])
            if got <= 0:
                self._eof = True
                break
            if self._hasher is not None:
                self._hasher.update(view[:got])
            done += got
            self._base += got
        return done

    def finish(self) -> int:
        """Consume (and hash) the rest of the stream; return how many bytes that was."""
        done = 0
        while True:
            step = self.skip(1 << 62)
            done += step
            if self._eof or step == 0:
                break
        self._flush_hash()
        return done

    # -- internals ----------------------------------------------------------------------

    def _flush_hash(self) -> None:
        if self._hasher is not None and self._pos > self._hpos:
            self._hasher.update(memoryview(self._buf)[self._hpos : self._pos])
        self._hpos = self._pos

    def _readinto(self, view: memoryview) -> int:
        readinto = getattr(self._file, "readinto", None)
        if readinto is not None:
            got = readinto(view)
            return int(got or 0)
        data = self._file.read(len(view))
        view[: len(data)] = data
        return len(data)

    def _fill(self, need: int) -> bool:
        """Make ``need`` unread bytes available if the stream has them."""
        if len(self._buf) - self._pos >= need:
            return True
        if self._eof:
            return False
        self._flush_hash()
        rest = self._buf[self._pos :]
        self._base += self._pos
        parts = [rest] if rest else []
        have = len(rest)
        while have < need:
            data = self._file.read(max(self._chunk, need - have))
            if not data:
                self._eof = True
                break
            parts.append(data)
            have += len(data)
        self._buf = parts[0] if len(parts) == 1 else b"".join(parts)
        self._pos = self._hpos = 0
        return have >= need
