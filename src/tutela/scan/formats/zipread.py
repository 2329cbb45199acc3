"""Our own zip reader: what PyTorch's loader would read, not what ``zipfile`` accepts.

PyTorch reads checkpoints with miniz (caffe2 ``PyTorchStreamReader``), built with
``MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS``: it finds a member by its *central directory*
name, then reads the data at the *local header* offset, skipping the local header by the
local name and extra lengths, with no CRC check. ``zipfile`` instead raises on a bad CRC
and keeps only the last of duplicate names, which lets a crafted zip hide a pickle from
a scanner built on it. This reader therefore lists every central entry, reads every
entry's data itself, computes the CRC only to *report* a mismatch, and exposes both the
central and the local name.

Members are decompressed as a stream with size and ratio limits; nothing is ever
decompressed whole into memory.
"""

from __future__ import annotations

import bz2
import io
import stat
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from tutela.scan.formats.interface import LimitHit
from tutela.scan.interface import ScanError

__all__ = ["MemberReader", "ZipArchive", "ZipEntry", "ZipFormatError"]

_EOCD = b"PK\x05\x06"
_EOCD64 = b"PK\x06\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_CHUNK = 64 * 1024
_RATIO_FLOOR = 1024 * 1024  # ratios are only judged past this much output
SUPPORTED_METHODS = {0: "stored", 8: "deflate", 12: "bzip2"}


class ZipFormatError(ScanError):
    """The zip structure cannot be read."""

    code = "scan.zip"


@dataclass(slots=True)
class ZipEntry:
    index: int
    name: str  # central directory name: what a loader looks up
    raw_name: bytes
    method: int
    flags: int
    crc: int
    compressed_size: int
    size: int
    local_offset: int  # as recorded, before the prefix adjustment
    external_attr: int
    local_name: str | None = None
    data_offset: int | None = None
    local_problem: str | None = None

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & 0x1)

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    @property
    def is_symlink(self) -> bool:
        return stat.S_ISLNK(self.external_attr >> 16)

    @property
    def data_end(self) -> int:
        return (self.data_offset or 0) + self.compressed_size


@dataclass(slots=True)
class ZipArchive:
    """The central directory of a zip, with each entry's local header resolved."""

    fh: BinaryIO
    size: int
    entries: list[ZipEntry] = field(default_factory=list)
    prefix: int = 0  # bytes prepended before the archive (self-extracting stubs)
    comment: bytes = b""

    @classmethod
    def read(cls, fh: BinaryIO, size: int, *, max_members: int, max_directory: int) -> ZipArchive:
        archive = cls(fh, size)
        archive._read_directory(max_members=max_members, max_directory=max_directory)
        for entry in archive.entries:
            archive._resolve_local(entry)
        return archive

    def _read_directory(self, *, max_members: int, max_directory: int) -> None:
        tail_len = min(self.size, 22 + 0xFFFF + 20)
        self.fh.seek(self.size - tail_len)
        tail = self.fh.read(tail_len)
        pos = tail.rfind(_EOCD)
        while pos >= 0 and pos + 22 > len(tail):
            pos = tail.rfind(_EOCD, 0, pos)
        if pos < 0:
            raise ZipFormatError("no end of central directory record")
        eocd_at = self.size - tail_len + pos
        rec = tail[pos : pos + 22]
        total = int.from_bytes(rec[10:12], "little")
        cd_size = int.from_bytes(rec[12:16], "little")
        cd_offset = int.from_bytes(rec[16:20], "little")
        comment_len = int.from_bytes(rec[20:22], "little")
        self.comment = tail[pos + 22 : pos + 22 + comment_len]
        cd_end = eocd_at
        if pos >= 20 and tail[pos - 20 : pos - 16] == _EOCD64_LOCATOR:
            loc = tail[pos - 20 : pos]
            eocd64_at = int.from_bytes(loc[8:16], "little")
            self.fh.seek(eocd64_at)
            rec64 = self.fh.read(56)
            if len(rec64) == 56 and rec64[:4] == _EOCD64:
                total = int.from_bytes(rec64[32:40], "little")
                cd_size = int.from_bytes(rec64[40:48], "little")
                cd_offset = int.from_bytes(rec64[48:56], "little")
                cd_end = eocd64_at
            else:
                raise ZipFormatError("zip64 locator points to no zip64 end record")
        if total > max_members:
            raise LimitHit(
                "too many zip members", expected=f"at most {max_members}", found=str(total)
            )
        if cd_size > max_directory:
            raise LimitHit(
                "zip central directory too large",
                expected=f"at most {max_directory} bytes",
                found=f"{cd_size} bytes",
            )
        # Like zipfile: a stub prepended to the archive shifts every recorded offset.
        self.prefix = max(0, cd_end - cd_size - cd_offset)
        start = cd_offset + self.prefix
        if start + cd_size > self.size:
            raise ZipFormatError("central directory runs past the end of the file")
        self.fh.seek(start)
        directory = self.fh.read(cd_size)
        self._parse_central(directory, max_members=max_members)

    def _parse_central(self, directory: bytes, *, max_members: int) -> None:
        pos = 0
        while pos + 46 <= len(directory):
            if directory[pos : pos + 4] != _CENTRAL:
                break
            rec = directory[pos : pos + 46]
            flags = int.from_bytes(rec[8:10], "little")
            method = int.from_bytes(rec[10:12], "little")
            crc = int.from_bytes(rec[16:20], "little")
            csize = int.from_bytes(rec[20:24], "little")
            usize = int.from_bytes(rec[24:28], "little")
            name_len = int.from_bytes(rec[28:30], "little")
            extra_len = int.from_bytes(rec[30:32], "little")
            comment_len = int.from_bytes(rec[32:34], "little")
            external = int.from_bytes(rec[38:42], "little")
            offset = int.from_bytes(rec[42:46], "little")
            end = pos + 46 + name_len + extra_len + comment_len
            if end > len(directory):
                raise ZipFormatError("central directory entry runs past the directory")
            raw_name = directory[pos + 46 : pos + 46 + name_len]
            extra = directory[pos + 46 + name_len : pos + 46 + name_len + extra_len]
            usize, csize, offset = _apply_zip64(extra, usize, csize, offset)
            self.entries.append(
                ZipEntry(
                    index=len(self.entries),
                    name=_decode_name(raw_name, flags),
                    raw_name=raw_name,
                    method=method,
                    flags=flags,
                    crc=crc,
                    compressed_size=csize,
                    size=usize,
                    local_offset=offset,
                    external_attr=external,
                )
            )
            if len(self.entries) > max_members:
                raise LimitHit("too many zip members", expected=f"at most {max_members}")
            pos = end

    def _resolve_local(self, entry: ZipEntry) -> None:
        at = entry.local_offset + self.prefix
        if at + 30 > self.size:
            entry.local_problem = "local header offset past the end of the file"
            return
        self.fh.seek(at)
        rec = self.fh.read(30)
        if rec[:4] != _LOCAL:
            entry.local_problem = "no local header at the recorded offset"
            return
        flags = int.from_bytes(rec[6:8], "little")
        name_len = int.from_bytes(rec[26:28], "little")
        extra_len = int.from_bytes(rec[28:30], "little")
        entry.local_name = _decode_name(self.fh.read(name_len), flags)
        entry.data_offset = at + 30 + name_len + extra_len
        if entry.data_end > self.size:
            entry.local_problem = "member data runs past the end of the file"

    def open(self, entry: ZipEntry, *, max_bytes: int, max_ratio: float) -> MemberReader:
        if entry.data_offset is None or entry.local_problem:
            raise ZipFormatError(entry.local_problem or "unreadable local header")
        if entry.encrypted:
            raise ZipFormatError("member is encrypted")
        if entry.method not in SUPPORTED_METHODS:
            raise ZipFormatError(f"unsupported compression method {entry.method}")
        return MemberReader(
            self.fh,
            start=entry.data_offset,
            length=entry.compressed_size,
            method=entry.method,
            expected_crc=entry.crc,
            max_bytes=max_bytes,
            max_ratio=max_ratio,
            name=entry.name,
        )


def _decode_name(raw: bytes, flags: int) -> str:
    if flags & 0x800:
        return raw.decode("utf-8", "replace")
    return raw.decode("cp437")


def _apply_zip64(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag = int.from_bytes(extra[pos : pos + 2], "little")
        length = int.from_bytes(extra[pos + 2 : pos + 4], "little")
        body = extra[pos + 4 : pos + 4 + length]
        if tag == 0x0001:
            cursor = 0
            values = []
            for current in (usize, csize, offset):
                if current == 0xFFFFFFFF and cursor + 8 <= len(body):
                    values.append(int.from_bytes(body[cursor : cursor + 8], "little"))
                    cursor += 8
                else:
                    values.append(current)
            return values[0], values[1], values[2]
        pos += 4 + length
    return usize, csize, offset


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    def decompress(self, data: bytes, max_length: int = ..., /) -> bytes: ...


class MemberReader(io.RawIOBase):
    """Streams one member's decompressed bytes, enforcing size and ratio limits.

    The CRC is computed for reporting (``crc_ok`` once the end is reached); it is never a
    reason to refuse the data, because PyTorch does not check it either.
    """

    def __init__(
        self,
        fh: BinaryIO,
        *,
        start: int,
        length: int,
        method: int,
        expected_crc: int,
        max_bytes: int,
        max_ratio: float,
        name: str,
    ) -> None:
        super().__init__()
        self._fh = fh
        self._pos = start
        self._remaining = length
        self._method = method
        self._expected_crc = expected_crc
        self._max_bytes = max_bytes
        self._max_ratio = max_ratio
        self._name = name
        self._decomp: _Decompressor | None = None
        self._zlib = zlib.decompressobj(-15) if method == 8 else None
        if method == 8:
            self._decomp = self._zlib
        elif method == 12:
            self._decomp = bz2.BZ2Decompressor()
        self._pending = b""  # compressed bytes read but not yet consumed
        self.consumed = 0
        self.produced = 0
        self._crc = 0
        self.done = False
        self.truncated = False
        self.limit_hit: LimitHit | None = None

    def readable(self) -> bool:
        return True

    @property
    def crc_ok(self) -> bool | None:
        return (self._crc == self._expected_crc) if self.done else None

    def _read_raw(self, n: int) -> bytes:
        take = min(n, self._remaining)
        if take <= 0:
            return b""
        self._fh.seek(self._pos)
        data = self._fh.read(take)
        self._pos += len(data)
        self._remaining -= len(data)
        if len(data) < take:
            self._remaining = 0
        return data

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self.limit_hit is not None:
            raise self.limit_hit
        want = len(buffer)
        if want == 0 or self.done:
            return 0
        out = self._next(want)
        if not out:
            self.done = True
            return 0
        self.produced += len(out)
        self._crc = zlib.crc32(out, self._crc)
        if self.produced > self._max_bytes:
            raise LimitHit(
                "archive member larger than allowed",
                subject=self._name,
                expected=f"at most {self._max_bytes} bytes",
            )
        if self.produced > _RATIO_FLOOR and self.produced > self._max_ratio * max(self.consumed, 1):
            raise LimitHit(
                "compression ratio too high",
                subject=self._name,
                expected=f"at most {self._max_ratio:g}:1",
            )
        buffer[: len(out)] = out
        return len(out)

    def _next(self, want: int) -> bytes:
        if self._decomp is None:
            data = self._read_raw(min(want, _CHUNK))
            self.consumed += len(data)
            return data
        while True:
            if self._zlib is not None:
                if self._zlib.eof:
                    return b""
                if not self._pending:
                    self._pending = self._read_raw(_CHUNK)
                    if not self._pending:
                        self.truncated = True
                        return b""
                before = len(self._pending)
                out = self._zlib.decompress(self._pending, want)
                self._pending = self._zlib.unconsumed_tail
                self.consumed += before - len(self._pending)
            else:
                decomp = self._decomp
                if decomp.eof:
                    return b""
                needs_input = getattr(decomp, "needs_input", True)
                chunk = self._read_raw(_CHUNK) if needs_input else b""
                if needs_input and not chunk:
                    self.truncated = True
                    return b""
                self.consumed += len(chunk)
                out = decomp.decompress(chunk, want)
            if out:
                return out
