"""Property tests: no input, random or mutated, makes scan_path raise or hang."""

from __future__ import annotations

import io
import json
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutela.filetype.protobuf_wire import field_bytes, field_varint
from tutela.scan.engine import scan_path
from tutela.scan.interface import FileReport, Limits, Verdict

_LIMITS = Limits(max_seconds=10.0)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"a": 1}, protocol=2))
        zf.writestr("archive/version", "3")
    return buf.getvalue()


def _tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = pickle.dumps([1, 2], protocol=2)
        info = tarfile.TarInfo("pickle")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _npy() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.arange(6))
    return buf.getvalue()


def _safetensors() -> bytes:
    header = json.dumps({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * 8


def _gguf() -> bytes:
    key = b"tokenizer.chat_template"
    value = b"{{ messages }}"
    kv = struct.pack("<Q", len(key)) + key + struct.pack("<I", 8)
    kv += struct.pack("<Q", len(value)) + value
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + kv


def _savedmodel() -> bytes:
    node = field_bytes(1, field_bytes(1, "r") + field_bytes(2, "ReadFile"))
    meta = field_bytes(1, field_bytes(4, "x")) + field_bytes(2, node)
    return field_varint(1, 1) + field_bytes(2, meta)


def _onnx() -> bytes:
    node = field_bytes(1, field_bytes(4, "Add") + field_bytes(7, "x.y"))
    return field_varint(1, 8) + field_bytes(2, "t") + field_bytes(7, node)


SEEDS = [_zip(), _tar(), _npy(), _safetensors(), _gguf(), _savedmodel(), _onnx(),
         pickle.dumps({"k": [1.5, "s"]}, protocol=0), b"\x1f\x8b" + b"\0" * 20]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[: cut if draw(st.booleans()) else len(data)])


def _check(report: FileReport) -> None:
    assert isinstance(report.verdict, Verdict)
    if report.error is not None:
        assert "\n" not in report.error
    for reason in report.inconclusive:
        assert isinstance(reason, str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated())
def test_mutated_inputs_never_raise(tmp_path_factory: object, data: bytes) -> None:
    """Mutated and truncated valid files give a report, never an exception."""
    folder = Path(tmp_path_factory.mktemp("fz"))  # type: ignore[attr-defined]
    path = folder / "input.bin"
    path.write_bytes(data)
    _check(scan_path(path, limits=_LIMITS))


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=2048))
def test_random_bytes_never_raise(tmp_path_factory: object, data: bytes) -> None:
    """Random bytes give a report, never an exception."""
    folder = Path(tmp_path_factory.mktemp("fz"))  # type: ignore[attr-defined]
    path = folder / "input.bin"
    path.write_bytes(data)
    _check(scan_path(path, limits=_LIMITS))
