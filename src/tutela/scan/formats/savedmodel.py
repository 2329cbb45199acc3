"""TensorFlow SavedModel (``saved_model.pb``), walked without TensorFlow.

A SavedModel graph runs when it is loaded and served, and TensorFlow ships ops that
touch the host: read or write any file, list folders, memory-map paths, call Python
functions registered in the serving process. The scanner walks every MetaGraphDef's
GraphDef and its FunctionDefLibrary with our protobuf wire reader, collects op names,
and reports the dangerous ones with the reason each matters.
"""

from __future__ import annotations

import mmap
from contextlib import suppress
from dataclasses import dataclass
from typing import ClassVar

from tutela.filetype.protobuf_wire import LEN, WireError, iter_fields
from tutela.scan.formats.interface import FormatScanner, RuleInfo, ScanContext, Subject
from tutela.scan.interface import Severity

__all__ = ["DANGEROUS_OPS", "SavedModelScanner"]


@dataclass(frozen=True, slots=True)
class _OpRisk:
    severity: Severity
    reason: str


_FILE_READ = "reads a file at a path chosen by the graph"
DANGEROUS_OPS: dict[str, _OpRisk] = {
    "ReadFile": _OpRisk(Severity.HIGH, _FILE_READ),
    "WriteFile": _OpRisk(Severity.HIGH, "writes a file at a path chosen by the graph"),
    "MatchingFiles": _OpRisk(Severity.HIGH, "lists host files matching a glob"),
    "ImmutableConst": _OpRisk(Severity.HIGH, "memory-maps a host file named in the graph"),
    "PyFunc": _OpRisk(Severity.HIGH, "calls a Python function of the serving process"),
    "PyFuncStateless": _OpRisk(Severity.HIGH, "calls a Python function of the serving process"),
    "EagerPyFunc": _OpRisk(Severity.HIGH, "calls a Python function of the serving process"),
    "WholeFileReader": _OpRisk(Severity.MEDIUM, _FILE_READ),
    "WholeFileReaderV2": _OpRisk(Severity.MEDIUM, _FILE_READ),
    "TextLineDataset": _OpRisk(Severity.MEDIUM, _FILE_READ),
    "TFRecordDataset": _OpRisk(Severity.MEDIUM, _FILE_READ),
    "TFRecordDatasetV2": _OpRisk(Severity.MEDIUM, _FILE_READ),
    "FixedLengthRecordDataset": _OpRisk(Severity.MEDIUM, _FILE_READ),
    "FixedLengthRecordDatasetV2": _OpRisk(Severity.MEDIUM, _FILE_READ),
    "PrintV2": _OpRisk(Severity.LOW, "can append to a host file (output_stream=file://)"),
    "DebugIdentityV2": _OpRisk(Severity.MEDIUM, "writes debug dumps to a host folder"),
    "CreateSummaryFileWriter": _OpRisk(Severity.MEDIUM, "writes event files to a host folder"),
    "LoadAndRemapMatrix": _OpRisk(Severity.MEDIUM, "reads a checkpoint file"),
    "InitializeTableFromTextFile": _OpRisk(Severity.LOW, "reads a vocabulary file"),
    "InitializeTableFromTextFileV2": _OpRisk(Severity.LOW, "reads a vocabulary file"),
}
# Checkpoint ops belong to the standard saver; anywhere else they read or write files.
_SAVER_OPS = frozenset(
    {"Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice", "MergeV2Checkpoints"}
)
_SAVER_SCOPES = (
    "save/",
    "save_",
    "saver",
    "__inference__traced_save",
    "__inference__traced_restore",
)

# Field numbers: SavedModel, MetaGraphDef, GraphDef, NodeDef, FunctionDefLibrary, FunctionDef.
_SM_META = 2
_MG_GRAPH = 2
_GD_NODE, _GD_LIBRARY = 1, 2
_ND_NAME, _ND_OP = 1, 2
_LIB_FUNCTION = 1
_FD_SIGNATURE, _FD_NODE = 1, 3


class SavedModelScanner(FormatScanner):
    """TensorFlow SavedModel: dangerous ops in graphs and function libraries."""

    id = "scan.savedmodel"
    formats = ("savedmodel",)
    title = "TensorFlow SavedModel"
    rules: ClassVar[tuple[RuleInfo, ...]] = (
        RuleInfo(
            "savedmodel.dangerous-op", Severity.HIGH, "graph uses an op that touches the host"
        ),
    )

    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        if subject.size == 0:
            return
        with subject.path.open("rb") as fh:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        found: dict[tuple[str, str], str] = {}
        try:
            _walk_saved_model(ctx, memoryview(mm), found)
        except WireError as exc:
            ctx.add(
                "format.unparseable",
                Severity.MEDIUM,
                f"SavedModel protobuf malformed: {exc.diagnostics()}",
                member=subject.member,
            )
            ctx.note(f"{subject.label()}: SavedModel not fully parsed")
        finally:
            with suppress(BufferError):
                mm.close()
        for (op, scope), node in sorted(found.items()):
            risk = DANGEROUS_OPS.get(op) or _OpRisk(
                Severity.MEDIUM, "reads or writes checkpoint files outside the standard saver"
            )
            ctx.add(
                "savedmodel.dangerous-op",
                risk.severity,
                f"op {op} ({node} in {scope}) {risk.reason}",
                member=subject.member,
                details={"op": op, "node": node, "scope": scope},
            )


def _walk_saved_model(
    ctx: ScanContext, view: memoryview, found: dict[tuple[str, str], str]
) -> None:
    for meta in iter_fields(view):
        if meta.number != _SM_META or meta.wire != LEN:
            continue
        for graph in iter_fields(meta.data()):
            if graph.number != _MG_GRAPH or graph.wire != LEN:
                continue
            for fld in iter_fields(graph.data()):
                ctx.check_time()
                if fld.number == _GD_NODE and fld.wire == LEN:
                    _node(fld.data(), "graph", found)
                elif fld.number == _GD_LIBRARY and fld.wire == LEN:
                    for fn in iter_fields(fld.data()):
                        if fn.number == _LIB_FUNCTION and fn.wire == LEN:
                            _function(fn.data(), found)


def _function(view: memoryview, found: dict[tuple[str, str], str]) -> None:
    name = "function"
    nodes: list[memoryview] = []
    for fld in iter_fields(view):
        if fld.wire != LEN:
            continue
        if fld.number == _FD_SIGNATURE:
            for sig in iter_fields(fld.data()):
                if sig.number == 1 and sig.wire == LEN:
                    name = sig.text(256)
        elif fld.number == _FD_NODE:
            nodes.append(fld.data())
    for node in nodes:
        _node(node, f"function {name}", found)


def _node(view: memoryview, scope: str, found: dict[tuple[str, str], str]) -> None:
    name = op = ""
    for fld in iter_fields(view):
        if fld.number == _ND_NAME and fld.wire == LEN:
            name = fld.text(256)
        elif fld.number == _ND_OP and fld.wire == LEN:
            op = fld.text(256)
    if op in DANGEROUS_OPS:
        found.setdefault((op, scope), name)
    elif op in _SAVER_OPS:
        where = scope.removeprefix("function ") if scope != "graph" else name
        if not where.startswith(_SAVER_SCOPES):
            found.setdefault((op, scope), name)
