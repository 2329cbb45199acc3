"""Orchestration: detect, dispatch, enforce time limits, turn every failure into a report.

:func:`scan_path` scans one file in-process and never raises for anything a file can
contain. :func:`scan_paths` walks files and folders in a deterministic order and scans
them in worker processes, killing a worker stuck past ``limits.max_seconds``.

Verdicts, in order of precedence:

* ``FINDINGS``: at least one finding above info (even if the scan then failed: a
  finding is never hidden behind an error).
* ``ERROR``: the scan failed (time limit, unreadable file, scanner crash).
* ``INCONCLUSIVE``: nothing above info, but part of the file was not inspected, or the
  content is binary in a format Tutela does not recognise (``unknown``): an unknown
  binary could be a model format whose loader runs code, so it is never called clean.
* ``CLEAN``: fully inspected, nothing above info. Files that are confidently not
  models (text that is not a protocol 0 pickle, images, parquet, ...) are format
  ``text`` or ``other`` and clean.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import stat
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from tutela.errors import TutelaError
from tutela.filetype.detect import PICKLE_FORMATS, detect
from tutela.scan.formats.interface import (
    HEAD_BYTES,
    FormatScanner,
    LimitHit,
    ScanContext,
    Subject,
    TimeLimit,
)
from tutela.scan.formats.registry import scanner_table
from tutela.scan.interface import FileReport, Finding, Limits, Severity, Verdict
from tutela.scan.pickle import analyze_pickle
from tutela.scan.source import ByteSource

__all__ = ["iter_targets", "scan_path", "scan_paths"]

log = logging.getLogger(__name__)

_PASSIVE_ROOT = frozenset({"text", "other", "empty"})
_GRACE_SECONDS = 5.0  # the parent waits this long past max_seconds before killing

# What a file name promises, to report content that says otherwise (format.mismatch).
_EXPECTED_BY_SUFFIX: dict[str, frozenset[str]] = {
    ".safetensors": frozenset({"safetensors"}),
    ".gguf": frozenset({"gguf"}),
    ".onnx": frozenset({"onnx"}),
    ".npy": frozenset({"npy"}),
    ".npz": frozenset({"npz", "zip"}),
    ".keras": frozenset({"keras"}),
    ".h5": frozenset({"hdf5", "keras-h5"}),
    ".hdf5": frozenset({"hdf5", "keras-h5"}),
    ".txt": frozenset({"text", "empty"}),
    ".json": frozenset({"text", "empty"}),
    ".md": frozenset({"text", "empty"}),
    ".csv": frozenset({"text", "empty"}),
    ".yaml": frozenset({"text", "empty"}),
    ".yml": frozenset({"text", "empty"}),
    ".zip": frozenset({"zip", "pytorch-zip", "torchscript", "keras", "npz"}),
    ".tar": frozenset({"tar", "pytorch-legacy-tar"}),
}
_CODE_FORMATS = PICKLE_FORMATS | {"pytorch-zip", "torchscript", "pytorch-legacy-tar"}


def _verdict(report: FileReport) -> Verdict:
    if any(f.severity > Severity.INFO for f in report.findings):
        return Verdict.FINDINGS
    if report.error is not None:
        return Verdict.ERROR
    if report.inconclusive:
        return Verdict.INCONCLUSIVE
    return Verdict.CLEAN


def _scan_pickle_stream(
    ctx: ScanContext, stream: Any, member: str | None, *, max_pickles: int | None = None
) -> None:
    source = stream if isinstance(stream, ByteSource) else ByteSource(stream)
    result = analyze_pickle(
        source, member=member, limits=ctx.limits, deadline=ctx.deadline, max_pickles=max_pickles
    )
    ctx.extend(list(result.findings))
    for reason in result.inconclusive:
        ctx.note(reason)
    ctx.pickles += result.pickles
    ctx.imports.extend(result.imports)


@dataclass(slots=True)
class _Dispatcher:
    table: dict[str, FormatScanner] = field(default_factory=scanner_table)

    def __call__(self, ctx: ScanContext, subject: Subject) -> None:
        ctx.check_time()
        scanner = self.table.get(subject.format)
        if scanner is None:
            if subject.format not in _PASSIVE_ROOT and subject.depth == 0:
                ctx.note(f"{subject.label()}: unrecognised binary format, not inspected")
            return
        if subject.depth == 0:
            scanner.scan(ctx, subject)
            return
        # A nested member's failure must not lose what the rest of the file showed.
        try:
            scanner.scan(ctx, subject)
        except (TimeLimit, LimitHit):
            raise
        except TutelaError as exc:
            ctx.note(f"{subject.label()}: {exc.diagnostics()}")
        except (Exception, RecursionError) as exc:
            log.debug("scanner %s failed on %s", scanner.id, subject.label(), exc_info=True)
            ctx.note(f"{subject.label()}: {scanner.id} failed ({type(exc).__name__}: {exc})")


def _one_line(text: str, limit: int = 300) -> str:
    return " ".join(str(text).split())[:limit]


def _file_digest(path: Path) -> str:
    with path.open("rb") as fh:
        return "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()


class _BackgroundDigest:
    """SHA-256 of a file computed on a thread while the parser reads what it needs.

    Formats parsed by random access (zip, HDF5, safetensors, ...) cannot hash in their
    own pass; hashlib and file reads release the GIL, so the digest costs no extra wall
    time beyond the longer of the two.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._digest: str | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="tutela-digest", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._digest = _file_digest(self._path)
        except BaseException as exc:  # reported by result(), on the caller's thread
            self._error = exc

    def result(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._digest is not None
        return self._digest


def scan_path(
    path: str | os.PathLike[str],
    *,
    limits: Limits | None = None,
    hash: bool = True,
    dispatcher: _Dispatcher | None = None,
) -> FileReport:
    """Scan one file. Never raises for anything the file contains; see the module doc."""
    limits = limits or Limits()
    started = time.monotonic()
    target = Path(path)
    report = FileReport(path=str(target), digest=None, size=0, format="unknown",
                        verdict=Verdict.ERROR)  # fmt: skip
    try:
        st = target.stat()
    except OSError as exc:
        report.error = f"{target}: cannot be read ({exc.strerror or type(exc).__name__})"
        return _finish(report, started)
    if not stat.S_ISREG(st.st_mode):
        report.format = "special"
        report.inconclusive.append(f"{target}: not a regular file, not opened")
        return _finish(report, started)
    report.size = st.st_size
    if st.st_size > limits.max_file_bytes:
        report.findings.append(
            Finding("archive.limit", Severity.HIGH,
                    f"file of {st.st_size} bytes over the limit {limits.max_file_bytes}")
        )  # fmt: skip
        report.inconclusive.append(f"{target}: too large, not inspected")
        return _finish(report, started)
    with tempfile.TemporaryDirectory(prefix="tutela-scan-") as tmp:
        ctx = ScanContext(
            root=target,
            limits=limits,
            deadline=started + limits.max_seconds,
            tmpdir=Path(tmp),
            dispatch=dispatcher or _Dispatcher(),
            scan_pickle_stream=_scan_pickle_stream,
            hasher=None,
        )
        background: _BackgroundDigest | None = None
        try:
            with target.open("rb") as fh:
                head = fh.read(HEAD_BYTES)
            detected = detect(head, st.st_size)
            report.format = detected.format
            if hash and detected.format in PICKLE_FORMATS:
                ctx.hasher = hashlib.sha256()  # hashed in the same pass that parses
            elif hash:
                background = _BackgroundDigest(target)
            ctx.dispatch(ctx, Subject(target, None, st.st_size, head, detected.format))
            if ctx.hasher is not None and ctx.hashed:
                report.digest = "sha256:" + ctx.hasher.hexdigest()
            elif hash:
                report.digest = background.result() if background else _file_digest(target)
        except TimeLimit:
            report.error = f"{target}: time limit of {limits.max_seconds:g} s exceeded"
        except LimitHit as exc:
            ctx.limit(exc.diagnostics(), member=None)
        except TutelaError as exc:
            report.error = f"{target}: {_one_line(exc.diagnostics())}"
        except (Exception, RecursionError) as exc:
            log.debug("scan of %s failed", target, exc_info=True)
            report.error = f"{target}: scanner failed ({type(exc).__name__}: {_one_line(str(exc))})"
        report.findings.extend(ctx.findings)
        report.inconclusive.extend(r for r in ctx.inconclusive if r not in report.inconclusive)
        if ctx.format:
            report.format = ctx.format
    _check_suffix(report, target)
    return _finish(report, started)


def _check_suffix(report: FileReport, target: Path) -> None:
    expected = _EXPECTED_BY_SUFFIX.get(target.suffix.lower())
    if expected is None or report.error is not None:
        return
    base = report.format.split("+", 1)[0]
    if report.format in expected or base in expected:
        return
    carries_code = base in _CODE_FORMATS
    report.findings.append(
        Finding(
            "format.mismatch",
            Severity.LOW if carries_code else Severity.INFO,
            f"named {target.suffix} but the content is {report.format}",
            details={"suffix": target.suffix, "format": report.format},
        )
    )


def _finish(report: FileReport, started: float) -> FileReport:
    report.seconds = time.monotonic() - started
    report.verdict = _verdict(report)
    return report


# -- walking -------------------------------------------------------------------------------


def _special(path: Path, fmt: str, reason: str, finding: Finding | None = None) -> FileReport:
    report = FileReport(path=str(path), digest=None, size=0, format=fmt, verdict=Verdict.CLEAN)
    report.inconclusive.append(f"{path}: {reason}")
    if finding is not None:
        report.findings.append(finding)
    report.verdict = _verdict(report)
    return report


def iter_targets(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path | FileReport]:
    """Files to scan, in a deterministic order, and ready reports for what is not opened.

    Folders are walked in sorted order. Symbolic links are followed only when they stay
    inside the folder being walked, and only to files (their folders are reached anyway);
    links leaving it are reported, never followed; special files are reported, never
    opened.
    """
    for given in paths:
        top = Path(given)
        if top.is_dir() and not top.is_symlink():
            yield from _walk(top, top.resolve())
        else:
            yield top


def _walk(folder: Path, root: Path) -> Iterator[Path | FileReport]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        yield _special(folder, "folder", f"cannot be listed ({exc.strerror})")
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.is_symlink():
            try:
                resolved = path.resolve(strict=True)
            except (OSError, RuntimeError):
                yield _special(path, "symlink", "broken or looping symbolic link, not followed")
                continue
            if not resolved.is_relative_to(root):
                yield _special(
                    path,
                    "symlink",
                    f"symbolic link to {resolved} outside the scanned folder, not followed",
                    Finding(
                        "file.symlink-escape",
                        Severity.MEDIUM,
                        f"symbolic link points outside the scanned folder: {resolved}",
                    ),
                )
            elif resolved.is_file():
                yield path
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path, root)
        elif entry.is_file(follow_symlinks=False):
            yield path
        else:
            yield _special(path, "special", "not a regular file, not opened")


# -- parallel scanning -----------------------------------------------------------------------


def _worker(conn: Connection, limits: Limits, hash_files: bool) -> None:
    dispatcher = _Dispatcher()
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        index, path = task
        conn.send((index, scan_path(path, limits=limits, hash=hash_files, dispatcher=dispatcher)))


@dataclass(slots=True)
class _Slot:
    process: Any
    conn: Connection
    task: tuple[int, Path] | None = None
    started: float = 0.0


def _start(ctx: Any, limits: Limits, hash_files: bool) -> _Slot:
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_worker, args=(child, limits, hash_files), daemon=True)
    process.start()
    child.close()
    return _Slot(process, parent)


def _stop(slot: _Slot, *, kill: bool) -> None:
    if kill:
        slot.process.kill()
    else:
        try:
            slot.conn.send(None)
        except OSError:
            slot.process.kill()
    slot.process.join(timeout=5)
    slot.conn.close()


def _failed(path: Path, message: str, seconds: float = 0.0) -> FileReport:
    return FileReport(
        path=str(path),
        digest=None,
        size=0,
        format="unknown",
        verdict=Verdict.ERROR,
        error=f"{path}: {message}",
        seconds=seconds,
    )


def scan_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    limits: Limits | None = None,
    workers: int | None = None,
    hash: bool = True,
) -> Iterator[FileReport]:
    """Scan files and folders; yield one report per file in walk order.

    ``workers=0`` scans in this process (no parent-side kill). Otherwise each file is
    scanned in one of ``workers`` processes (default: CPU count); a worker still busy
    ``max_seconds`` plus a grace period after it started a file is killed, that file is
    reported ``ERROR`` (time limit) and a fresh worker takes over.
    """
    limits = limits or Limits()
    targets = list(iter_targets(paths))
    files = [(i, t) for i, t in enumerate(targets) if isinstance(t, Path)]
    ready: dict[int, FileReport] = {
        i: t for i, t in enumerate(targets) if isinstance(t, FileReport)
    }
    count = min(workers if workers is not None else (os.cpu_count() or 1), len(files))
    if count <= 0:
        dispatcher = _Dispatcher()
        for i, target in enumerate(targets):
            yield ready[i] if i in ready else scan_path(
                target,  # type: ignore[arg-type]
                limits=limits, hash=hash, dispatcher=dispatcher,
            )  # fmt: skip
        return
    yield from _run_pool(targets, files, ready, count, limits, hash)


def _run_pool(
    targets: list[Path | FileReport],
    files: list[tuple[int, Path]],
    ready: dict[int, FileReport],
    count: int,
    limits: Limits,
    hash_files: bool,
) -> Iterator[FileReport]:
    methods = multiprocessing.get_all_start_methods()
    mp = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    queue = deque(files)
    slots = [_start(mp, limits, hash_files) for _ in range(count)]
    budget = limits.max_seconds + _GRACE_SECONDS
    next_out = 0
    try:
        while queue or any(s.task for s in slots):
            for slot in slots:
                if slot.task is None and queue:
                    slot.task = queue.popleft()
                    slot.started = time.monotonic()
                    slot.conn.send(slot.task)
            busy = [s for s in slots if s.task is not None]
            now = time.monotonic()
            timeout = max(0.0, min(s.started + budget for s in busy) - now)
            for conn in wait([s.conn for s in busy], timeout=timeout):
                slot = next(s for s in busy if s.conn is conn)
                assert slot.task is not None
                try:
                    index, report = slot.conn.recv()
                except (EOFError, OSError):
                    index = slot.task[0]
                    report = _failed(slot.task[1], "scanner process died")
                    slots[slots.index(slot)] = _replace(slot, mp, limits, hash_files)
                else:
                    slot.task = None
                ready[index] = report
            now = time.monotonic()
            for i, slot in enumerate(slots):
                if slot.task is not None and now - slot.started > budget:
                    index, path = slot.task
                    ready[index] = _failed(
                        path, f"time limit of {limits.max_seconds:g} s exceeded", now - slot.started
                    )
                    slots[i] = _replace(slot, mp, limits, hash_files)
            while next_out in ready:
                yield ready.pop(next_out)
                next_out += 1
        while next_out < len(targets) and next_out in ready:
            yield ready.pop(next_out)
            next_out += 1
    finally:
        for slot in slots:
            _stop(slot, kill=slot.task is not None)


def _replace(slot: _Slot, mp: Any, limits: Limits, hash_files: bool) -> _Slot:
    _stop(slot, kill=True)
    return _start(mp, limits, hash_files)
