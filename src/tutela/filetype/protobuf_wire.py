"""A minimal protobuf wire-format reader and writer.

Enough to walk ONNX and TensorFlow SavedModel messages without importing either
framework: fields are yielded as (number, wire type, value) where length-delimited
values are zero-copy ``memoryview`` slices. Every read is bounds-checked; malformed
input raises :class:`WireError`. The writer exists so tests and fuzzers can build
hostile messages byte by byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tutela.errors import InputError

__all__ = [
    "I32",
    "I64",
    "LEN",
    "VARINT",
    "Field",
    "WireError",
    "encode_varint",
    "field_bytes",
    "field_varint",
    "iter_fields",
    "read_varint",
]

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5


class WireError(InputError):
    """The bytes are not a well-formed protobuf message."""

    code = "scan.protobuf"


@dataclass(frozen=True, slots=True)
class Field:
    number: int
    wire: int
    value: int | memoryview  # int for VARINT/I64/I32, a slice for LEN
    offset: int

    def data(self) -> memoryview:
        if not isinstance(self.value, memoryview):
            raise WireError("expected a length-delimited field", found=f"wire type {self.wire}")
        return self.value

    def text(self, limit: int = 4096) -> str:
        """The field as UTF-8 text, truncated to ``limit`` bytes, undecodable bytes replaced."""
        return bytes(self.data()[:limit]).decode("utf-8", "replace")

    def number_value(self) -> int:
        if isinstance(self.value, memoryview):
            raise WireError("expected a scalar field", found="length-delimited")
        return self.value


def read_varint(buf: memoryview | bytes, pos: int, end: int | None = None) -> tuple[int, int]:
    """Decode one base-128 varint at ``pos``; return (value, next position)."""
    stop = len(buf) if end is None else end
    result = 0
    shift = 0
    while True:
        if pos >= stop:
            raise WireError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint longer than 10 bytes")


def iter_fields(buf: memoryview | bytes, start: int = 0, end: int | None = None) -> Iterator[Field]:
    """Yield the fields of one message occupying ``buf[start:end]``."""
    view = buf if isinstance(buf, memoryview) else memoryview(buf)
    stop = len(view) if end is None else end
    if stop > len(view) or start < 0 or start > stop:
        raise WireError("message bounds outside the buffer")
    pos = start
    while pos < stop:
        offset = pos
        key, pos = read_varint(view, pos, stop)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0", found=f"at offset {offset}")
        if wire == VARINT:
            value, pos = read_varint(view, pos, stop)
            yield Field(number, wire, value, offset)
        elif wire == I64:
            if pos + 8 > stop:
                raise WireError("truncated fixed64")
            yield Field(number, wire, int.from_bytes(view[pos : pos + 8], "little"), offset)
            pos += 8
        elif wire == I32:
            if pos + 4 > stop:
                raise WireError("truncated fixed32")
            yield Field(number, wire, int.from_bytes(view[pos : pos + 4], "little"), offset)
            pos += 4
        elif wire == LEN:
            length, pos = read_varint(view, pos, stop)
            if length > stop - pos:
                raise WireError(
                    "length-delimited field runs past its message",
                    found=f"{length} bytes at offset {pos}",
                )
            yield Field(number, wire, view[pos : pos + length], offset)
            pos += length
        else:
            # Groups are deprecated and unused by ONNX and TensorFlow: treat as malformed.
            raise WireError("unsupported wire type", found=f"{wire} at offset {offset}")


def encode_varint(value: int) -> bytes:
    if value < 0:
        value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number: int, value: int) -> bytes:
    return encode_varint(number << 3 | VARINT) + encode_varint(value)


def field_bytes(number: int, data: bytes | str) -> bytes:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return encode_varint(number << 3 | LEN) + encode_varint(len(raw)) + raw
