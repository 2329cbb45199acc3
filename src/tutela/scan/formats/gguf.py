"""GGUF (llama.cpp): header, metadata key/values, tensor infos, chat templates.

GGUF cannot carry pickles, but it carries two kinds of risk: a header whose counts and
lengths overflow naive C parsers (the 2024 ggml heap overflows), and a Jinja
``tokenizer.chat_template`` that inference servers render, where a sandbox escape
becomes remote code execution (CVE-2024-34359). Counts and lengths are bounded before
anything is read; templates go through :mod:`tutela.scan.formats.template`.
"""

from __future__ import annotations

import io
import itertools
import struct
from typing import BinaryIO, ClassVar

from tutela.scan.formats.interface import (
    FormatScanner,
    LimitHit,
    RuleInfo,
    ScanContext,
    Subject,
)
from tutela.scan.formats.template import inspect_template
from tutela.scan.interface import ScanError, Severity

__all__ = ["GGML_BLOCKS", "GgufScanner"]

# ggml tensor type -> (elements per block, bytes per block)
GGML_BLOCKS: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98),
    19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136),
    24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56),
    30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17),
}  # fmt: skip
_SCALARS: dict[int, str] = {
    0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"
}  # fmt: skip
_STRING, _ARRAY = 8, 9
_MAX_DIMS = 4
_MAX_ARRAY_DEPTH = 4
_TEMPLATE_KEYS = ("tokenizer.chat_template",)


class _Malformed(ScanError):
    code = "scan.gguf"


class _Reader:
    def __init__(self, fh: BinaryIO, size: int, endian: str, max_string: int) -> None:
        self.fh = fh
        self.size = size
        self.endian = endian
        self.max_string = max_string
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n > self.size - self.pos:
            raise _Malformed("truncated header", found=f"{n} bytes wanted at offset {self.pos}")
        data = self.fh.read(n)
        if len(data) != n:
            raise _Malformed("truncated header")
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        if n > self.size - self.pos:
            raise _Malformed("truncated header", found=f"{n} bytes wanted at offset {self.pos}")
        self.fh.seek(n, io.SEEK_CUR)
        self.pos += n

    def scalar(self, code: str) -> int | float | bool:
        fmt = self.endian + code
        value: int | float | bool = struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        return value

    def u32(self) -> int:
        return int(self.scalar("I"))

    def u64(self) -> int:
        return int(self.scalar("Q"))

    def string_length(self, version: int) -> int:
        length = self.u32() if version == 1 else self.u64()
        if length > self.max_string:
            raise LimitHit(
                "GGUF string too long",
                expected=f"at most {self.max_string} bytes",
                found=f"{length} at offset {self.pos}",
            )
        return length

    def string(self, version: int) -> str:
        return self.take(self.string_length(version)).decode("utf-8", "replace")


class GgufScanner(FormatScanner):
    """GGUF: bounded header parse, tensor bounds, and chat template injection checks."""

    id = "scan.gguf"
    formats = ("gguf",)
    title = "GGUF (llama.cpp)"
    rules: ClassVar[tuple[RuleInfo, ...]] = (
        RuleInfo("gguf.header", Severity.HIGH, "header malformed or counts out of range"),
        RuleInfo("gguf.tensor", Severity.HIGH, "tensor info out of bounds or invalid"),
        RuleInfo("gguf.template-injection", Severity.CRITICAL, "chat template escapes the sandbox"),
    )

    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        with subject.path.open("rb") as raw:
            fh = io.BufferedReader(raw, buffer_size=256 * 1024)
            try:
                self._scan(ctx, subject, fh)
            except _Malformed as exc:
                ctx.add(
                    "gguf.header", Severity.HIGH, f"GGUF {exc.diagnostics()}", member=subject.member
                )
                ctx.note(f"{subject.label()}: GGUF header not fully parsed")
            except LimitHit as exc:
                ctx.limit(exc.diagnostics(), member=subject.member)

    def _scan(self, ctx: ScanContext, subject: Subject, fh: BinaryIO) -> None:
        limits = ctx.limits
        reader = _Reader(fh, subject.size, "<", limits.max_header_bytes)
        reader.take(4)
        version = reader.u32()
        if version > 0xFFFF:  # a big-endian file reads as a huge little-endian number
            reader.endian = ">"
            version = int.from_bytes(version.to_bytes(4, "little"), "big")
        if version not in (1, 2, 3):
            raise _Malformed("unsupported version", expected="1, 2 or 3", found=str(version))
        count = reader.u32 if version == 1 else reader.u64
        n_tensors, n_kv = count(), count()
        for what, n in (("tensors", n_tensors), ("metadata entries", n_kv)):
            if n > limits.max_members:
                raise LimitHit(
                    f"GGUF declares too many {what}",
                    expected=f"at most {limits.max_members}",
                    found=str(n),
                )
        alignment = 32
        for _ in range(n_kv):
            ctx.check_time()
            key = reader.string(version)
            vtype = reader.u32()
            if key.startswith(_TEMPLATE_KEYS) and vtype == _STRING:
                self._template(ctx, subject, key, reader.string(version))
            elif key == "general.alignment" and vtype == 4:
                alignment = reader.u32()
                if alignment == 0 or alignment & (alignment - 1):
                    raise _Malformed("general.alignment is not a power of two")
            else:
                self._skip_value(reader, version, vtype, key, limits.max_header_bytes, 0)
            if reader.pos > limits.max_header_bytes:
                raise LimitHit(
                    "GGUF metadata too large", expected=f"at most {limits.max_header_bytes} bytes"
                )
        tensors = [self._tensor_info(reader, version) for _ in range(n_tensors)]
        data_start = -(-reader.pos // alignment) * alignment
        self._check_tensors(ctx, subject, tensors, data_start, alignment)

    def _skip_value(
        self, reader: _Reader, version: int, vtype: int, key: str, budget: int, depth: int
    ) -> None:
        if vtype in _SCALARS:
            reader.skip(struct.calcsize(_SCALARS[vtype]))
        elif vtype == _STRING:
            reader.skip(reader.string_length(version))
        elif vtype == _ARRAY:
            if depth >= _MAX_ARRAY_DEPTH:
                raise _Malformed(f"arrays nested too deeply in {key!r}")
            itype = reader.u32()
            n = reader.u32() if version == 1 else reader.u64()
            if n > budget:
                raise _Malformed(f"array {key!r} declares {n} elements")
            if itype in _SCALARS:
                reader.skip(n * struct.calcsize(_SCALARS[itype]))
            else:
                for _ in range(n):
                    self._skip_value(reader, version, itype, key, budget, depth + 1)
        else:
            raise _Malformed(f"unknown value type {vtype} for key {key!r}")

    def _tensor_info(self, reader: _Reader, version: int) -> tuple[str, list[int], int, int]:
        name = reader.string(version)
        n_dims = reader.u32()
        if n_dims > _MAX_DIMS:
            raise _Malformed(f"tensor {name!r} has {n_dims} dimensions", expected="at most 4")
        dims = [reader.u32() if version == 1 else reader.u64() for _ in range(n_dims)]
        ggml_type = reader.u32()
        offset = reader.u64()
        return name, dims, ggml_type, offset

    def _check_tensors(
        self,
        ctx: ScanContext,
        subject: Subject,
        tensors: list[tuple[str, list[int], int, int]],
        data_start: int,
        alignment: int,
    ) -> None:
        data_len = subject.size - data_start
        spans: list[tuple[int, int, str]] = []
        for name, dims, ggml_type, offset in tensors:

            def bad(message: str, tensor: str = name) -> None:
                ctx.add(
                    "gguf.tensor",
                    Severity.HIGH,
                    f"tensor {tensor!r}: {message}",
                    member=subject.member,
                )

            if ggml_type not in GGML_BLOCKS:
                ctx.note(f"{subject.label()}: tensor {name!r} has unknown ggml type {ggml_type}")
                continue
            block, block_bytes = GGML_BLOCKS[ggml_type]
            elements = 1
            for d in dims:
                elements *= d
            if elements >= 1 << 63:
                bad(f"dimensions {dims} overflow a 64-bit element count")
                continue
            if dims and dims[0] % block:
                bad(f"first dimension {dims[0]} is not a multiple of the block size {block}")
                continue
            nbytes = elements // block * block_bytes
            if offset % alignment:
                bad(f"offset {offset} is not aligned to {alignment}")
            if offset + nbytes > data_len:
                bad(f"data [{offset}, {offset + nbytes}) runs past the end of the file")
                continue
            spans.append((offset, offset + nbytes, name))
        spans.sort()
        for (_s1, e1, n1), (s2, _e2, n2) in itertools.pairwise(spans):
            if s2 < e1:
                ctx.add(
                    "gguf.tensor",
                    Severity.HIGH,
                    f"tensors {n1!r} and {n2!r} overlap",
                    member=subject.member,
                )

    def _template(self, ctx: ScanContext, subject: Subject, key: str, source: str) -> None:
        for issue in inspect_template(source):
            ctx.add(
                "gguf.template-injection",
                issue.severity,
                f"{key}: {issue.message}",
                member=subject.member,
                details={"key": key},
            )
