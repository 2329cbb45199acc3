"""Zip containers: PyTorch checkpoints, TorchScript, Keras v3, npz and plain zips.

Every central directory entry is read from its local header and scanned by content,
whatever its name, folder, CRC or duplicate status: that is a superset of what
PyTorch's miniz-based reader, ``numpy.load`` and Keras would open. Structural tricks
that only make sense to evade a scanner are findings of their own.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections import Counter
from typing import ClassVar

from tutela.filetype.detect import classify_zip
from tutela.scan.formats import keras as keras_rules
from tutela.scan.formats.interface import FormatScanner, LimitHit, RuleInfo, ScanContext, Subject
from tutela.scan.formats.nested import scan_stream
from tutela.scan.formats.zipread import (
    SUPPORTED_METHODS,
    MemberReader,
    ZipArchive,
    ZipEntry,
    ZipFormatError,
)
from tutela.scan.interface import Severity

__all__ = ["ZipScanner"]

_RATIO_FLOOR = 1024 * 1024  # small members may compress well without being bombs
_TRAVERSAL = re.compile(r"(^|[\\/])\.\.([\\/]|$)|^[\\/]|^[A-Za-z]:")


class ZipScanner(FormatScanner):
    """Zip archives (PyTorch, TorchScript, Keras v3, npz, generic), read like torch reads them.

    Checks: CRC mismatches, local/central name mismatches, duplicate names, overlapping
    members, encrypted members, links, path traversal names, size, ratio, count and
    nesting limits; every member that is a pickle by content goes to the pickle engine,
    every member that is another container or model format is scanned recursively.
    """

    id = "scan.zip"
    formats = ("zip",)
    title = "Zip archives and zip-based checkpoints"
    rules: ClassVar[tuple[RuleInfo, ...]] = (
        RuleInfo("zip.crc-mismatch", Severity.MEDIUM, "member CRC differs from its data"),
        RuleInfo("zip.name-mismatch", Severity.MEDIUM, "local header name differs from central"),
        RuleInfo("zip.duplicate-name", Severity.MEDIUM, "two members share one name"),
        RuleInfo("zip.overlap", Severity.HIGH, "members share or overlap their data"),
        RuleInfo("zip.size-mismatch", Severity.LOW, "member size differs from its header"),
        RuleInfo("archive.encrypted", Severity.MEDIUM, "encrypted member cannot be inspected"),
        RuleInfo("archive.link", Severity.LOW, "member is a symbolic link"),
        RuleInfo("archive.path-traversal", Severity.MEDIUM, "member name leaves the folder"),
        RuleInfo("archive.limit", Severity.HIGH, "size, ratio, count or nesting limit hit"),
        RuleInfo("torchscript.code", Severity.INFO, "TorchScript archive carries code"),
    )

    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        limits = ctx.limits
        with subject.path.open("rb") as fh:
            try:
                archive = ZipArchive.read(
                    fh,
                    subject.size,
                    max_members=limits.max_members,
                    max_directory=limits.max_header_bytes,
                )
            except LimitHit as exc:
                ctx.limit(exc.diagnostics(), member=subject.member)
                return
            except ZipFormatError as exc:
                ctx.add(
                    "format.unparseable",
                    Severity.MEDIUM,
                    f"zip structure unreadable: {exc.diagnostics()}",
                    member=subject.member,
                )
                ctx.note(f"{subject.label()}: zip structure unreadable")
                return
            names = [e.name for e in archive.entries]
            names += [e.local_name for e in archive.entries if e.local_name]
            flavour = classify_zip(names)
            if subject.depth == 0:
                ctx.format = flavour
            _structure_checks(ctx, subject, archive)
            if flavour == "torchscript":
                ctx.add(
                    "torchscript.code",
                    Severity.INFO,
                    "TorchScript archive: its code/ members run when torch.jit.load is called",
                    member=subject.member,
                )
            declared = sum(e.size for e in archive.entries)
            if declared > limits.max_total_uncompressed:
                ctx.limit(
                    f"declared uncompressed size {declared} bytes over "
                    f"{limits.max_total_uncompressed}",
                    member=subject.member,
                )
            for entry in archive.entries:
                ctx.check_time()
                try:
                    ctx.count_member(entry.name)
                    self._scan_entry(ctx, subject, archive, entry)
                except (zlib.error, OSError, EOFError, ZipFormatError) as exc:
                    member = subject.child(entry.name)
                    ctx.add(
                        "format.unparseable",
                        Severity.MEDIUM,
                        f"zip member data corrupt: {str(exc)[:160]}",
                        member=member,
                    )
                    ctx.note(f"{member}: member data not fully read")
                except LimitHit as exc:
                    ctx.limit(exc.diagnostics(), member=subject.child(entry.name))
                    if (
                        ctx.total_uncompressed > limits.max_total_uncompressed
                        or ctx.members_seen > limits.max_members
                    ):
                        return
            if flavour == "keras":
                keras_rules.scan_keras_zip(ctx, subject, archive)

    def _scan_entry(
        self, ctx: ScanContext, subject: Subject, archive: ZipArchive, entry: ZipEntry
    ) -> None:
        member = subject.child(entry.name)
        if entry.is_dir and entry.size == 0:
            return
        if entry.local_problem:
            ctx.add(
                "format.unparseable",
                Severity.MEDIUM,
                f"zip member unreadable: {entry.local_problem}",
                member=member,
            )
            ctx.note(f"{member}: {entry.local_problem}")
            return
        if entry.encrypted:
            ctx.add(
                "archive.encrypted",
                Severity.MEDIUM,
                "encrypted zip member: its content cannot be inspected",
                member=member,
            )
            ctx.note(f"{member}: encrypted")
            return
        if entry.method not in SUPPORTED_METHODS:
            ctx.note(f"{member}: unsupported compression method {entry.method}")
            return
        if entry.size > ctx.limits.max_member_bytes:
            ctx.limit(f"declared member size {entry.size} bytes", member=member)
            return
        ratio = entry.size / max(entry.compressed_size, 1)
        if entry.size > _RATIO_FLOOR and ratio > ctx.limits.max_compression_ratio:
            ctx.limit(f"declared compression ratio {ratio:.0f}:1", member=member)
            return
        reader = archive.open(
            entry,
            max_bytes=ctx.limits.max_member_bytes,
            max_ratio=ctx.limits.max_compression_ratio,
        )
        try:
            found = scan_stream(ctx, subject, entry.name, reader, size_hint=entry.size)
            if found in ("pickle",):
                while reader.read(64 * 1024):  # finish the member so its CRC is known
                    ctx.check_time()
        finally:
            ctx.count_uncompressed(reader.produced, member)
        _after_read(ctx, entry, reader, member)


def _after_read(ctx: ScanContext, entry: ZipEntry, reader: MemberReader, member: str) -> None:
    if reader.truncated:
        ctx.note(f"{member}: compressed data ends early")
    if reader.crc_ok is False:
        ctx.add(
            "zip.crc-mismatch",
            Severity.MEDIUM,
            "member CRC-32 does not match its data; PyTorch loads it anyway, "
            "scanners built on zipfile refuse it",
            member=member,
            details={"recorded_crc": f"{entry.crc:08x}"},
        )
    if reader.done and reader.produced != entry.size:
        ctx.add(
            "zip.size-mismatch",
            Severity.LOW,
            f"member holds {reader.produced} bytes, header says {entry.size}",
            member=member,
        )


def _structure_checks(ctx: ScanContext, subject: Subject, archive: ZipArchive) -> None:
    for entry in archive.entries:
        member = subject.child(entry.name)
        if entry.local_name is not None and entry.local_name != entry.name:
            ctx.add(
                "zip.name-mismatch",
                Severity.MEDIUM,
                f"local header names this member {entry.local_name!r}, the central "
                f"directory {entry.name!r}; loaders look up the central name",
                member=member,
                details={"local_name": entry.local_name},
            )
        if entry.is_symlink:
            ctx.add("archive.link", Severity.LOW, "member is a symbolic link", member=member)
        if _TRAVERSAL.search(entry.name):
            ctx.add(
                "archive.path-traversal",
                Severity.MEDIUM,
                "member name is absolute or leaves the archive folder via '..'",
                member=member,
            )
    for name, count in sorted(Counter(e.name for e in archive.entries).items()):
        if count > 1:
            ctx.add(
                "zip.duplicate-name",
                Severity.MEDIUM,
                f"{count} members are named {name!r}; each loader picks a different one",
                member=subject.child(name),
            )
    spans = sorted(
        (e.local_offset + archive.prefix, e.data_end, e.name)
        for e in archive.entries
        if e.data_offset is not None and not e.local_problem
    )
    overlaps = [(a[2], b[2]) for a, b in itertools.pairwise(spans) if b[0] < a[1]]
    if overlaps:
        first, second = overlaps[0]
        ctx.add(
            "zip.overlap",
            Severity.HIGH,
            f"{len(overlaps)} member(s) overlap another's data (e.g. {first!r} and "
            f"{second!r}): a zip bomb or a way to show two names for one payload",
            member=subject.member,
            details={"overlaps": len(overlaps)},
        )
