"""Build pickle byte streams by hand for the engine's tests (nothing here unpickles)."""

from __future__ import annotations

import struct

from tutela.scan.interface import Limits, Severity
from tutela.scan.pickle import ByteSource, PickleResult, analyze_pickle

PROTO4 = b"\x80\x04"
STOP = b"."
MARK = b"("
TUPLE = b"t"
REDUCE = b"R"


def s(text: str) -> bytes:
    """SHORT_BINUNICODE (or BINUNICODE when long)."""
    raw = text.encode("utf-8")
    if len(raw) < 256:
        return b"\x8c" + bytes([len(raw)]) + raw
    return b"X" + struct.pack("<I", len(raw)) + raw


def glob(module: str, name: str) -> bytes:
    """Protocol 0 GLOBAL."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def sglob(module: str, name: str) -> bytes:
    """STACK_GLOBAL with both names pushed as strings."""
    return s(module) + s(name) + b"\x93"


def call(func: bytes, *args: bytes) -> bytes:
    """func(*args) via MARK ... TUPLE REDUCE."""
    return func + MARK + b"".join(args) + TUPLE + REDUCE


def frame(body: bytes, declared: int | None = None) -> bytes:
    n = len(body) if declared is None else declared
    return b"\x95" + struct.pack("<Q", n) + body


def scan(data: bytes, limits: Limits | None = None, **kw: object) -> PickleResult:
    return analyze_pickle(
        ByteSource.from_bytes(data),
        member="m",
        limits=limits or Limits(),
        **kw,  # type: ignore[arg-type]
    )


def rules(result: PickleResult) -> dict[str, Severity]:
    out: dict[str, Severity] = {}
    for f in result.findings:
        out[f.rule_id] = max(out.get(f.rule_id, Severity.INFO), f.severity)
    return out


def called(result: PickleResult) -> set[str]:
    return {
        f.callable or ""
        for f in result.findings
        if f.rule_id in ("pickle.denied-call", "pickle.dynamic-call")
    }


def above_info(result: PickleResult) -> list[str]:
    return [
        f"{f.rule_id} {f.severity.label()} {f.callable} {f.message}"
        for f in result.findings
        if f.severity > Severity.INFO
    ]
