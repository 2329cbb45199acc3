"""Bounded streaming helpers shared by the container scanners.

Decompression always goes through :class:`BoundedReader`, which counts what it
produces against the member-size and compression-ratio limits and raises
:class:`LimitHit` the moment one is crossed, so a bomb costs at most one chunk past the
limit. Nested containers are spooled to a temporary file with :func:`spool` (still
bounded) so their scanners can seek.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

from tutela.scan.formats.interface import LimitHit

__all__ = ["BoundedReader", "Readable", "read_exact", "spool"]

_CHUNK = 64 * 1024


class Readable(Protocol):
    """Anything with ``read(n)`` returning bytes: files, decompressors, zip members."""

    def read(self, size: int = -1, /) -> bytes: ...


_RATIO_FLOOR = 1024 * 1024


def read_exact(stream: Readable, n: int) -> bytes:
    """Read up to ``n`` bytes, looping over short reads; fewer only at end of stream."""
    parts: list[bytes] = []
    got = 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def spool(stream: Readable, target: Path, check: Callable[[], None]) -> int:
    """Copy ``stream`` to ``target`` chunk by chunk; return the byte count."""
    total = 0
    with target.open("wb") as out:
        while True:
            check()
            chunk = stream.read(_CHUNK)
            if not chunk:
                return total
            out.write(chunk)
            total += len(chunk)


class BoundedReader(io.RawIOBase):
    """Wraps a decompressing file object; enforces output size and ratio limits.

    ``consumed`` is read from the compressed file's position, so the ratio is judged on
    real bytes, never on sizes a header declares.
    """

    def __init__(
        self,
        inner: Readable,
        raw: BinaryIO,
        *,
        name: str,
        max_bytes: int,
        max_ratio: float,
    ) -> None:
        super().__init__()
        self._inner = inner
        self._raw = raw
        self._start = raw.tell()
        self._name = name
        self._max_bytes = max_bytes
        self._max_ratio = max_ratio
        self.produced = 0
        self.limit_hit: LimitHit | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self.limit_hit is not None:
            raise self.limit_hit
        data = self._inner.read(min(len(buffer), _CHUNK))
        if not data:
            return 0
        self.produced += len(data)
        consumed = max(self._raw.tell() - self._start, 1)
        if self.produced > self._max_bytes:
            self.limit_hit = LimitHit(
                "decompressed stream larger than allowed",
                subject=self._name,
                expected=f"at most {self._max_bytes} bytes",
            )
        elif self.produced > _RATIO_FLOOR and self.produced > self._max_ratio * consumed:
            self.limit_hit = LimitHit(
                "compression ratio too high",
                subject=self._name,
                expected=f"at most {self._max_ratio:g}:1",
            )
        if self.limit_hit is not None:
            raise self.limit_hit
        buffer[: len(data)] = data
        return len(data)

    def drain(self, check: Callable[[], None]) -> None:
        while True:
            check()
            if not self.read(_CHUNK):
                return
