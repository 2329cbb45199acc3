"""Model and dataset files found by content, hashed in the same pass that reads them.

A file is read once: its head goes to format detection (``tutela.filetype``, shared with
the scanner) and to every detector that asked for it; when it is a model or dataset (or
lies inside a model or dataset folder) the rest of the file streams through SHA-256,
counting lines for text datasets on the way. Row counts and schemas are only taken where
they are cheap: CSV/TSV header and line count (quoted newlines are counted as rows),
JSON Lines keys of the first record, NumPy headers, Parquet and Arrow footers (with
pyarrow, when installed).
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import os
import struct
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tutela.filetype.detect import classify_zip, detect
from tutela.inventory.interface import (
    Confidence,
    FileDetector,
    FileInput,
    Finding,
    ItemKind,
    Location,
    Problem,
)
from tutela.inventory.walk import Entry

__all__ = ["MODEL_FORMATS", "FileResult", "inspect_file"]

DETECTOR_ID = "discover.artifact"
HEAD = 64 * 1024
CHUNK = 1 << 20
MODEL_FORMATS = frozenset(
    {
        "pickle", "joblib", "pytorch-legacy", "pytorch-zip", "torchscript", "keras", "hdf5",
        "safetensors", "gguf", "onnx", "savedmodel",
    }
)  # fmt: skip
_MAGIC_DATASETS = frozenset({"parquet", "arrow", "npy", "npz"})
_TEXT_DATASETS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# Names that hold code or configuration, never a dataset or model even when they parse.
_NEVER_ARTIFACT = (".py", ".pyi", ".md", ".rst", ".txt", ".toml", ".cfg", ".ini", ".yaml", ".yml")


@dataclass
class FileResult:
    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    digest: str | None = None  # set when the whole file was hashed
    size: int = 0


def _open_read(path: str, limit: int) -> tuple[Any, bytes]:
    handle = open(path, "rb")  # noqa: SIM115 - returned to the caller, closed there
    return handle, handle.read(limit)


def inspect_file(
    root: str, entry: Entry, detectors: Sequence[FileDetector], *, max_bytes: int
) -> FileResult:
    """Run ``detectors`` on the file, then look at its content for models and datasets."""
    result = FileResult(size=entry.size)
    path = os.path.join(root, entry.rel)
    name = entry.rel.rsplit("/", 1)[-1]
    want = max_bytes if detectors else HEAD
    try:
        handle, data = _open_read(path, want)
    except OSError as exc:
        result.problems.append(Problem(entry.rel, f"cannot read: {exc.strerror}"))
        return result
    with handle:
        truncated = entry.size > len(data)
        if detectors:
            file = FileInput(root=_root_path(root), rel=entry.rel, data=data, size=entry.size,
                             truncated=truncated)  # fmt: skip
            for detector in detectors:
                try:
                    found, problems = detector.detect(file)
                except Exception as exc:  # a detector bug must not stop the run
                    result.problems.append(
                        Problem(entry.rel, f"{detector.id} failed: {type(exc).__name__}: {exc}")
                    )
                    continue
                result.findings.extend(found)
                result.problems.extend(problems)
        fmt = _format(data, entry, name, path)
        text_kind = _TEXT_DATASETS.get(os.path.splitext(name)[1].lower())
        is_model = fmt in MODEL_FORMATS and not name.endswith(_NEVER_ARTIFACT)
        is_dataset = fmt in _MAGIC_DATASETS or (text_kind is not None and fmt == "text")
        if not (is_model or is_dataset or entry.asset_dir):
            return result
        digest, lines = _hash_rest(handle, data, count_lines=text_kind is not None)
        result.digest = digest
    where = Location(entry.rel)
    if entry.asset_dir:
        return result  # reported as part of its folder
    if is_model:
        result.findings.append(
            Finding(ItemKind.MODEL, digest, entry.rel, Confidence.INFERRED, where, DETECTOR_ID,
                    properties={"format": fmt, "size": entry.size, "digest": digest,
                                "evidence": "content"})
        )  # fmt: skip
    else:
        props: dict[str, Any] = {"format": text_kind or fmt, "size": entry.size, "digest": digest}
        props.update(_dataset_shape(text_kind or fmt, data, lines, path))
        result.findings.append(
            Finding(ItemKind.DATASET, digest, entry.rel, Confidence.INFERRED, where, DETECTOR_ID,
                    properties=props)
        )  # fmt: skip
    return result


def _root_path(root: str) -> Any:
    from pathlib import Path

    return Path(root)


def _format(head: bytes, entry: Entry, name: str, path: str) -> str:
    fmt = detect(head[:HEAD], entry.size).format
    if fmt == "zip":
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()[:10_000]
        except (zipfile.BadZipFile, OSError, ValueError):
            return "zip"
        return classify_zip(names)
    if fmt == "protobuf" and name == "saved_model.pb":
        return "savedmodel"
    return fmt


def _hash_rest(handle: Any, head: bytes, *, count_lines: bool) -> tuple[str, int]:
    hasher = hashlib.sha256(head)
    lines = head.count(b"\n") if count_lines else 0
    while chunk := handle.read(CHUNK):
        hasher.update(chunk)
        if count_lines:
            lines += chunk.count(b"\n")
    return "sha256:" + hasher.hexdigest(), lines


def _dataset_shape(kind: str, head: bytes, lines: int, path: str) -> dict[str, Any]:
    try:
        if kind in ("csv", "tsv"):
            first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
            columns = next(csv.reader(io.StringIO(first), delimiter="\t" if kind == "tsv" else ","))
            return {"columns": columns[:500], "rows": max(lines - 1, 0)}
        if kind == "jsonl":
            record = json.loads(head.split(b"\n", 1)[0])
            keys = list(record)[:500] if isinstance(record, dict) else []
            return {"columns": keys, "rows": lines}
        if kind == "npy":
            return _npy_header(head)
        if kind in ("parquet", "arrow"):
            return _arrow_schema(kind, path)
    except (ValueError, UnicodeDecodeError, StopIteration, SyntaxError, struct.error):
        return {}
    return {}


def _npy_header(head: bytes) -> dict[str, Any]:
    # NEP 1: magic, version, little-endian header length, then a Python literal dict.
    major = head[6]
    if major == 1:
        (length,) = struct.unpack("<H", head[8:10])
        start = 10
    else:
        (length,) = struct.unpack("<I", head[8:12])
        start = 12
    if length > 65536:
        return {}
    header = ast.literal_eval(head[start : start + length].decode("latin-1"))
    if not isinstance(header, dict):
        return {}
    shape = header.get("shape")
    rows = shape[0] if isinstance(shape, tuple) and shape else None
    return {"schema": {"dtype": str(header.get("descr")), "shape": list(shape or ())}, "rows": rows}


def _arrow_schema(kind: str, path: str) -> dict[str, Any]:
    try:
        import pyarrow.ipc as ipc
        import pyarrow.parquet as pq
    except ImportError:
        return {}
    try:
        if kind == "parquet":
            meta = pq.ParquetFile(path)
            schema = meta.schema_arrow
            rows = meta.metadata.num_rows
        else:
            reader = ipc.open_file(path)
            schema = reader.schema
            rows = sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
    except Exception:  # pyarrow raises many types for a damaged file
        return {}
    return {
        "columns": list(schema.names)[:500],
        "schema": {f.name: str(f.type) for f in list(schema)[:500]},
        "rows": rows,
    }
