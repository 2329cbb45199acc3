"""Tar archives, 7z archives and single-stream compressors (gzip, bzip2, xz, lzma, zlib).

Each member, and each decompressed stream, is scanned by content through
:func:`tutela.scan.formats.nested.scan_stream`: a compressed joblib file is a zlib or
gzip stream holding a pickle, a legacy PyTorch tar holds ``pickle`` and ``storages``
members, a tarball may hold a checkpoint. Decompression is streamed and bounded.
"""

from __future__ import annotations

import bz2
import gzip
import importlib
import io
import lzma
import re
import shutil
import tarfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from tutela.scan.formats.interface import (
    FormatScanner,
    LimitHit,
    RuleInfo,
    ScanContext,
    Subject,
)
from tutela.scan.formats.nested import scan_stream
from tutela.scan.formats.streams import BoundedReader, Readable
from tutela.scan.interface import Severity

__all__ = ["CompressedScanner", "SevenZipScanner", "TarScanner"]

_TRAVERSAL = re.compile(r"(^|[\\/])\.\.([\\/]|$)|^[\\/]|^[A-Za-z]:")
_LEGACY_TORCH_TAR = frozenset({"sys_info", "pickle", "storages"})


def _traversal(ctx: ScanContext, name: str, member: str) -> None:
    if _TRAVERSAL.search(name):
        ctx.add(
            "archive.path-traversal",
            Severity.MEDIUM,
            "member name is absolute or leaves the archive folder via '..'",
            member=member,
        )


class TarScanner(FormatScanner):
    """Tar archives, including legacy PyTorch tar checkpoints; every member by content."""

    id = "scan.tar"
    formats = ("tar",)
    title = "Tar archives"
    rules: ClassVar[tuple[RuleInfo, ...]] = (
        RuleInfo("archive.link", Severity.LOW, "member is a symbolic or hard link"),
        RuleInfo("archive.path-traversal", Severity.MEDIUM, "member name leaves the folder"),
        RuleInfo("archive.limit", Severity.HIGH, "size, count or nesting limit hit"),
    )

    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        names: list[str] = []
        try:
            with tarfile.open(subject.path, mode="r:") as tar:
                while True:
                    ctx.check_time()
                    info = tar.next()
                    if info is None:
                        break
                    names.append(info.name)
                    self._member(ctx, subject, tar, info)
        except LimitHit as exc:
            ctx.limit(exc.diagnostics(), member=subject.member)
        except (tarfile.TarError, OSError, EOFError) as exc:
            ctx.add(
                "format.unparseable",
                Severity.MEDIUM,
                f"tar structure unreadable: {str(exc)[:160]}",
                member=subject.member,
            )
            ctx.note(f"{subject.label()}: tar not fully read")
        if subject.depth == 0:
            ctx.format = "pytorch-legacy-tar" if set(names) >= _LEGACY_TORCH_TAR else "tar"

    def _member(
        self, ctx: ScanContext, subject: Subject, tar: tarfile.TarFile, info: tarfile.TarInfo
    ) -> None:
        member = subject.child(info.name)
        ctx.count_member(member)
        _traversal(ctx, info.name, member)
        if info.issym() or info.islnk():
            ctx.add(
                "archive.link",
                Severity.LOW,
                f"member is a link to {info.linkname!r}",
                member=member,
            )
            return
        if not info.isfile():
            return
        if info.size > ctx.limits.max_member_bytes:
            ctx.limit(f"member of {info.size} bytes", member=member)
            return
        ctx.count_uncompressed(info.size, member)
        stream = tar.extractfile(info)
        if stream is None:
            return
        with stream:
            try:
                scan_stream(ctx, subject, info.name, stream, size_hint=info.size)
            except LimitHit as exc:
                ctx.limit(exc.diagnostics(), member=member)


class _ZlibFile(io.RawIOBase):
    """A raw zlib stream (what joblib's zlib compressor writes) as a readable file."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self._d = zlib.decompressobj()
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        while not self._d.eof:
            if not self._pending:
                self._pending = self._raw.read(64 * 1024)
                if not self._pending:
                    raise EOFError("zlib stream ends early")
            out = self._d.decompress(self._pending, len(buffer))
            self._pending = self._d.unconsumed_tail
            if out:
                buffer[: len(out)] = out
                return len(out)
        return 0


def _open_compressed(fmt: str, raw: BinaryIO) -> Readable:
    if fmt == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if fmt == "bzip2":
        return bz2.BZ2File(raw, mode="rb")
    if fmt == "xz":
        return lzma.LZMAFile(raw, mode="rb", format=lzma.FORMAT_XZ)
    if fmt == "lzma":
        return lzma.LZMAFile(raw, mode="rb", format=lzma.FORMAT_ALONE)
    if fmt == "zlib":
        return io.BufferedReader(_ZlibFile(raw))
    raise LimitHit(f"no decompressor for {fmt}")


class CompressedScanner(FormatScanner):
    """Single-stream compression (gzip, bzip2, xz, lzma, zlib): compressed joblib and co.

    The stream is decompressed incrementally under the member-size and ratio limits and
    its content scanned by detection; lz4 and zstd are reported inconclusive.
    """

    id = "scan.compressed"
    formats = ("gzip", "bzip2", "xz", "lzma", "zlib", "lz4", "zstd")
    title = "Compressed streams"
    rules: ClassVar[tuple[RuleInfo, ...]] = (
        RuleInfo("archive.limit", Severity.HIGH, "decompressed size or ratio limit hit"),
    )

    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        if subject.format in ("lz4", "zstd"):
            ctx.note(f"{subject.label()}: {subject.format} streams are not decompressed")
            return
        name = f"<{subject.format}>"
        with subject.path.open("rb") as raw:
            bounded = BoundedReader(
                _open_compressed(subject.format, raw),
                raw,
                name=subject.child(name),
                max_bytes=ctx.limits.max_member_bytes,
                max_ratio=ctx.limits.max_compression_ratio,
            )
            try:
                inner = scan_stream(ctx, subject, name, bounded, size_hint=None)
            except LimitHit as exc:
                ctx.limit(exc.diagnostics(), member=subject.child(name))
                inner = "unknown"
            except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
                ctx.add(
                    "format.unparseable",
                    Severity.MEDIUM,
                    f"{subject.format} stream corrupt: {str(exc)[:160]}",
                    member=subject.member,
                )
                ctx.note(f"{subject.label()}: {subject.format} stream not fully decompressed")
                inner = "unknown"
            ctx.count_uncompressed(bounded.produced, subject.member)
        if subject.depth == 0:
            ctx.format = f"{inner}+{subject.format}"


class SevenZipScanner(FormatScanner):
    """7z archives through py7zr (inconclusive without it, or when encrypted)."""

    id = "scan.7z"
    formats = ("7z",)
    title = "7z archives"
    rules: ClassVar[tuple[RuleInfo, ...]] = (
        RuleInfo("archive.encrypted", Severity.MEDIUM, "encrypted archive cannot be inspected"),
        RuleInfo("archive.limit", Severity.HIGH, "declared sizes over the limits"),
    )

    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        try:
            py7zr: Any = importlib.import_module("py7zr")
        except ImportError:
            ctx.note(f"{subject.label()}: 7z needs the py7zr package (pip install py7zr)")
            return
        out = ctx.temp_path("-7z")
        try:
            with py7zr.SevenZipFile(subject.path, mode="r") as archive:
                if archive.needs_password():
                    ctx.add(
                        "archive.encrypted",
                        Severity.MEDIUM,
                        "encrypted 7z archive: its content cannot be inspected",
                        member=subject.member,
                    )
                    ctx.note(f"{subject.label()}: encrypted")
                    return
                infos = [i for i in archive.list() if not i.is_directory]
                if not self._within_limits(ctx, subject, infos):
                    return
                out.mkdir()
                archive.extractall(path=out)  # noqa: S202 - sizes checked; py7zr refuses escaping paths
            self._scan_tree(ctx, subject, out, infos)
        except LimitHit as exc:
            ctx.limit(exc.diagnostics(), member=subject.member)
        except Exception as exc:
            ctx.add(
                "format.unparseable",
                Severity.MEDIUM,
                f"7z archive unreadable: {type(exc).__name__}: {str(exc)[:120]}",
                member=subject.member,
            )
            ctx.note(f"{subject.label()}: 7z not inspected")
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def _within_limits(self, ctx: ScanContext, subject: Subject, infos: list[Any]) -> bool:
        limits = ctx.limits
        total = sum(int(i.uncompressed or 0) for i in infos)
        biggest = max((int(i.uncompressed or 0) for i in infos), default=0)
        problems = []
        if len(infos) > limits.max_members:
            problems.append(f"{len(infos)} members")
        if biggest > limits.max_member_bytes:
            problems.append(f"a member of {biggest} bytes")
        if ctx.total_uncompressed + total > limits.max_total_uncompressed:
            problems.append(f"{total} bytes uncompressed in all")
        if total > (1 << 20) and total > limits.max_compression_ratio * max(subject.size, 1):
            problems.append(f"compression ratio {total / max(subject.size, 1):.0f}:1")
        for problem in problems:
            ctx.limit(problem, member=subject.member)
        return not problems

    def _scan_tree(self, ctx: ScanContext, subject: Subject, root: Path, infos: list[Any]) -> None:
        for info in infos:
            ctx.check_time()
            name = str(info.filename)
            member = subject.child(name)
            ctx.count_member(member)
            _traversal(ctx, name, member)
            path = root / name
            if path.is_symlink() or not path.is_file():
                continue
            if not path.resolve().is_relative_to(root.resolve()):
                continue
            size = path.stat().st_size
            ctx.count_uncompressed(size, member)
            with path.open("rb") as stream:
                scan_stream(ctx, subject, name, stream, size_hint=size)
