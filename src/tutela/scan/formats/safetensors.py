"""safetensors: an 8-byte header length, a JSON header, then raw tensor bytes.

The format cannot carry code; what can go wrong is a header that makes a loader read
out of bounds, allocate without limit, or hide bytes between tensors. The checks mirror
the reference implementation's validation and are stricter where it is lenient.
"""

from __future__ import annotations

import json
import math
from typing import Any, ClassVar

from tutela.scan.formats.interface import FormatScanner, RuleInfo, ScanContext, Subject
from tutela.scan.interface import Severity

__all__ = ["DTYPE_BITS", "SafetensorsScanner"]

DTYPE_BITS: dict[str, int] = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32, "C64": 64,
    "F64": 64, "I64": 64, "U64": 64,
    "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}  # fmt: skip


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen[key] = value
    return seen


class SafetensorsScanner(FormatScanner):
    """safetensors: header length, JSON header, dtypes, shapes and data offsets.

    Every tensor's dtype must be known, its byte size (shape x dtype) must equal its
    offset span, spans must lie in the data region without overlap or gaps and cover it;
    ``__metadata__`` must map strings to strings.
    """

    id = "scan.safetensors"
    formats = ("safetensors",)
    title = "safetensors"
    rules: ClassVar[tuple[RuleInfo, ...]] = (
        RuleInfo("safetensors.header", Severity.HIGH, "header length or JSON header invalid"),
        RuleInfo("safetensors.offsets", Severity.HIGH, "tensor offsets out of range or overlap"),
    )

    def scan(self, ctx: ScanContext, subject: Subject) -> None:
        member = subject.member
        size = subject.size
        if size < 8:
            self._header(ctx, member, "file shorter than the 8-byte header length")
            return
        with subject.path.open("rb") as fh:
            length = int.from_bytes(fh.read(8), "little")
            if length > ctx.limits.max_header_bytes:
                self._header(
                    ctx,
                    member,
                    f"header length {length} over the limit {ctx.limits.max_header_bytes}",
                )
                ctx.note(f"{subject.label()}: safetensors header not read (too large)")
                return
            if length > size - 8:
                self._header(
                    ctx,
                    member,
                    f"header length {length} runs past the end of the file ({size} bytes)",
                )
                return
            raw = fh.read(length)
        header = self._parse(ctx, member, raw)
        if header is None:
            return
        self._check(ctx, member, header, size - 8 - length)

    def _header(self, ctx: ScanContext, member: str | None, message: str) -> None:
        ctx.add("safetensors.header", Severity.HIGH, message, member=member)

    def _parse(self, ctx: ScanContext, member: str | None, raw: bytes) -> dict[str, Any] | None:
        if not raw.startswith(b"{"):
            self._header(ctx, member, "header does not start with '{'")
            return None
        try:
            header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
        except _Duplicate as dup:
            self._header(ctx, member, f"header repeats the key {str(dup)!r}")
            return None
        except (ValueError, RecursionError) as exc:
            self._header(ctx, member, f"header is not valid JSON: {str(exc)[:120]}")
            return None
        if not isinstance(header, dict):
            self._header(ctx, member, "header is not a JSON object")
            return None
        return header

    def _check(
        self, ctx: ScanContext, member: str | None, header: dict[str, Any], data_len: int
    ) -> None:
        meta = header.pop("__metadata__", None)
        if meta is not None and not (
            isinstance(meta, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
        ):
            ctx.add(
                "safetensors.header",
                Severity.MEDIUM,
                "__metadata__ must map strings to strings",
                member=member,
            )
        if len(header) > ctx.limits.max_members:
            ctx.limit(f"{len(header)} tensors", member=member)
            return
        spans: list[tuple[int, int, str]] = []
        for name, info in header.items():
            ctx.check_time()
            span = self._tensor(ctx, member, name, info, data_len)
            if span is not None:
                spans.append((span[0], span[1], name))
        self._coverage(ctx, member, sorted(spans), data_len)

    def _tensor(
        self, ctx: ScanContext, member: str | None, name: str, info: Any, data_len: int
    ) -> tuple[int, int] | None:
        def bad(rule: str, message: str) -> None:
            ctx.add(rule, Severity.HIGH, f"tensor {name!r}: {message}", member=member)

        if not isinstance(info, dict):
            bad("safetensors.header", "entry is not an object")
            return None
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
            bad("safetensors.header", f"unknown dtype {dtype!r}")
            return None
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            bad("safetensors.header", f"shape {str(shape)[:60]} is not a list of sizes")
            return None
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        ):
            bad("safetensors.offsets", "data_offsets is not a pair of integers")
            return None
        start, end = offsets
        if not 0 <= start <= end <= data_len:
            bad(
                "safetensors.offsets",
                f"data_offsets [{start}, {end}] outside the data region of {data_len} bytes",
            )
            return None
        bits = math.prod(shape) * DTYPE_BITS[dtype]
        if bits % 8 or bits // 8 != end - start:
            bad(
                "safetensors.offsets",
                f"shape {shape} x {dtype} is {bits / 8:g} bytes but its span is "
                f"{end - start} bytes",
            )
        return start, end

    def _coverage(
        self,
        ctx: ScanContext,
        member: str | None,
        spans: list[tuple[int, int, str]],
        data_len: int,
    ) -> None:
        cursor = 0
        for start, end, name in spans:
            if start < cursor:
                ctx.add(
                    "safetensors.offsets",
                    Severity.HIGH,
                    f"tensor {name!r} overlaps the previous tensor's bytes",
                    member=member,
                )
            elif start > cursor:
                ctx.add(
                    "safetensors.offsets",
                    Severity.MEDIUM,
                    f"{start - cursor} unaccounted bytes before tensor {name!r}",
                    member=member,
                )
            cursor = max(cursor, end)
        if cursor != data_len:
            ctx.add(
                "safetensors.offsets",
                Severity.MEDIUM,
                f"{data_len - cursor} bytes after the last tensor are not part of any tensor",
                member=member,
            )
