"""ONNX models, walked with our protobuf wire reader (no onnx import needed).

ONNX cannot carry Python, but a model can point its tensors at external files
anywhere on disk (``location: ../../etc/passwd``: the runtime reads them, and tools
that copy a model copy them too) and it can require custom operator domains, which a
runtime satisfies by loading native libraries.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import ClassVar

from tutela.filetype.protobuf_wire import LEN, Field, WireError, iter_fields
from tutela.scan.formats.interface import FormatScanner, RuleInfo, ScanContext, Subject
from tutela.scan.interface import Severity

__all__ = ["STANDARD_DOMAINS", "OnnxScanner"]

STANDARD_DOMAINS = frozenset(
    {"", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training"}
)
_COMMON_DOMAINS = frozenset({"com.microsoft", "com.microsoft.nchwc", "com.microsoft.experimental"})
_ABSOLUTE = re.compile(r"^([\\/]|[A-Za-z]:)")
_MAX_GRAPH_DEPTH = 32

# ModelProto / GraphProto / NodeProto / AttributeProto / TensorProto field numbers.
_M_GRAPH, _M_OPSET, _M_TRAINING, _M_FUNCTIONS = 7, 8, 20, 25
_G_NODE, _G_INIT, _G_SPARSE = 1, 5, 15
_N_OPTYPE, _N_ATTR, _N_DOMAIN = 4, 5, 7
_A_T, _A_G, _A_TENSORS, _A_GRAPHS, _A_SPARSE, _A_SPARSES = 5, 6, 10, 11, 22, 23
_T_NAME, _T_EXTERNAL, _T_LOCATION = 8, 13, 14
_F_NAME, _F_NODE, _F_OPSET, _F_DOMAIN = 1, 7, 9, 10


def _sub(fields: Iterator[Field], number: int) -> Iterator[memoryview]:
    for fld in fields:
        if fld.number == number and fld.wire == LEN:
            yield fld.data()


class OnnxScanner(FormatScanner):
    """ONNX: external data locations and operator domains, in graphs, subgraphs and functions."""

    id = "scan.onnx"
    formats = ("onnx",)
    title = "ONNX"
    rules: ClassVar[tuple[RuleInfo, ...]] = (
        RuleInfo(
            "onnx.external-data-escape", Severity.HIGH, "external data outside the model folder"
        ),
        RuleInfo("onnx.custom-domain", Severity.MEDIUM, "operator from a non-standard domain"),
    )

    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        if subject.size == 0:
            return
        with subject.path.open("rb") as fh:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            _Walk(ctx, subject).model(memoryview(mm))
        except WireError as exc:
            ctx.add(
                "format.unparseable",
                Severity.MEDIUM,
                f"ONNX protobuf malformed: {exc.diagnostics()}",
                member=subject.member,
            )
            ctx.note(f"{subject.label()}: ONNX model not fully parsed")
        except RecursionError:
            ctx.note(f"{subject.label()}: ONNX graph nested too deeply")
        finally:
            # Slices may outlive the walk in a traceback; the map then closes when collected.
            with suppress(BufferError):
                mm.close()


class _Walk:
    def __init__(self, ctx: ScanContext, subject: Subject) -> None:
        self.ctx = ctx
        self.subject = subject
        self.domains: dict[str, str] = {}  # domain -> first op seen
        self.functions: set[tuple[str, str]] = set()
        self.model_dir: Path | None = subject.path.parent if subject.depth == 0 else None

    def model(self, view: memoryview) -> None:
        graphs: list[memoryview] = []
        functions: list[memoryview] = []
        for fld in iter_fields(view):
            if fld.wire != LEN:
                continue
            if fld.number == _M_GRAPH:
                graphs.append(fld.data())
            elif fld.number == _M_OPSET:
                for d in _sub(iter_fields(fld.data()), 1):
                    self.domains.setdefault(bytes(d).decode("utf-8", "replace"), "opset_import")
            elif fld.number == _M_TRAINING:
                graphs.extend(_sub(iter_fields(fld.data()), 1))
                graphs.extend(_sub(iter_fields(fld.data()), 2))
            elif fld.number == _M_FUNCTIONS:
                functions.append(fld.data())
        for fn in functions:
            name = domain = ""
            for fld in iter_fields(fn):
                if fld.number == _F_NAME and fld.wire == LEN:
                    name = fld.text()
                elif fld.number == _F_DOMAIN and fld.wire == LEN:
                    domain = fld.text()
            self.functions.add((domain, name))
        for graph in graphs:
            self.graph(graph, 0)
        for fn in functions:
            for node in _sub(iter_fields(fn), _F_NODE):
                self.node(node, 0)
        self.report_domains()

    def graph(self, view: memoryview, depth: int) -> None:
        if depth > _MAX_GRAPH_DEPTH:
            self.ctx.note(
                f"{self.subject.label()}: subgraphs nested deeper than {_MAX_GRAPH_DEPTH}"
            )
            return
        self.ctx.check_time()
        for fld in iter_fields(view):
            if fld.wire != LEN:
                continue
            if fld.number == _G_NODE:
                self.node(fld.data(), depth)
            elif fld.number == _G_INIT:
                self.tensor(fld.data())
            elif fld.number == _G_SPARSE:
                for values in _sub(iter_fields(fld.data()), 1):
                    self.tensor(values)

    def node(self, view: memoryview, depth: int) -> None:
        op_type = domain = ""
        for fld in iter_fields(view):
            if fld.wire != LEN:
                continue
            if fld.number == _N_OPTYPE:
                op_type = fld.text(256)
            elif fld.number == _N_DOMAIN:
                domain = fld.text(256)
            elif fld.number == _N_ATTR:
                self.attribute(fld.data(), depth)
        if (domain, op_type) not in self.functions:
            self.domains.setdefault(domain, op_type)

    def attribute(self, view: memoryview, depth: int) -> None:
        for fld in iter_fields(view):
            if fld.wire != LEN:
                continue
            if fld.number in (_A_T, _A_TENSORS):
                self.tensor(fld.data())
            elif fld.number in (_A_SPARSE, _A_SPARSES):
                for values in _sub(iter_fields(fld.data()), 1):
                    self.tensor(values)
            elif fld.number in (_A_G, _A_GRAPHS):
                self.graph(fld.data(), depth + 1)

    def tensor(self, view: memoryview) -> None:
        name = ""
        locations: list[str] = []
        for fld in iter_fields(view):
            if fld.number == _T_NAME and fld.wire == LEN:
                name = fld.text(256)
            elif fld.number == _T_EXTERNAL and fld.wire == LEN:
                key = value = ""
                for entry in iter_fields(fld.data()):
                    if entry.number == 1 and entry.wire == LEN:
                        key = entry.text(256)
                    elif entry.number == 2 and entry.wire == LEN:
                        value = entry.text()
                if key == "location":
                    locations.append(value)
        for location in locations:
            self.location(name, location)

    def location(self, tensor: str, location: str) -> None:
        reason = None
        parts = re.split(r"[\\/]+", location)
        if _ABSOLUTE.match(location):
            reason = "is an absolute path"
        elif ".." in parts:
            reason = "climbs out of the model folder with '..'"
        elif "\x00" in location:
            reason = "contains a NUL byte"
        elif self.model_dir is not None:
            target = self.model_dir / location
            with suppress(OSError):
                if any(p.is_symlink() for p in _walk_up(target, self.model_dir)):
                    reason = "goes through a symbolic link"
                elif target.exists() and not target.resolve().is_relative_to(
                    self.model_dir.resolve()
                ):
                    reason = "resolves outside the model folder"
        if reason:
            self.ctx.add(
                "onnx.external-data-escape",
                Severity.HIGH,
                f"tensor {tensor!r} reads external data from {location!r}, which {reason}",
                member=self.subject.member,
                details={"tensor": tensor, "location": location},
            )

    def report_domains(self) -> None:
        for domain, op in sorted(self.domains.items()):
            if domain in STANDARD_DOMAINS:
                continue
            common = domain in _COMMON_DOMAINS
            self.ctx.add(
                "onnx.custom-domain",
                Severity.INFO if common else Severity.MEDIUM,
                f"operator domain {domain!r} (e.g. {op}) is not standard ONNX"
                + (
                    ": ONNX Runtime contrib ops"
                    if common
                    else ": the runtime must load a custom operator library (native code)"
                ),
                member=self.subject.member,
                details={"domain": domain, "op_type": op},
            )


def _walk_up(target: Path, root: Path) -> Iterator[Path]:
    current = target
    while current != root and current != current.parent:
        yield current
        current = current.parent
