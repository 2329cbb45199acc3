"""Read a dataset file into pandas through Arrow, within byte, row and column limits.

Formats: CSV, TSV, Parquet, JSON Lines, Arrow IPC (file or stream) and Feather. The format
comes from the extension, confirmed by the file's magic bytes where the format has them;
a file whose content does not parse is one ``DataCheckError`` line, never a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tutela.datacheck.interface import DataCheckError, Limits
from tutela.errors import LimitExceeded

__all__ = ["FORMATS", "Loaded", "detect_format", "read_dataset"]

FORMATS: Final = ("csv", "tsv", "parquet", "jsonl", "arrow", "feather")
_EXTENSIONS: Final = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".arrow": "arrow",
    ".ipc": "arrow",
    ".arrows": "arrow",
    ".feather": "feather",
}
_BLOCK: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class Loaded:
    frame: Any  # pandas.DataFrame
    format: str
    truncated: bool  # more rows than the limit: only the first ``max_rows`` were read


def _magic(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(8)


def detect_format(path: Path) -> str:
    """The dataset format of ``path``: its extension, then its leading bytes."""
    head = _magic(path)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"ARROW1"):
        # Feather version 2 is the Arrow IPC file format under another name.
        return "feather" if path.suffix.lower() == ".feather" else "arrow"
    if head.startswith(b"FEA1"):
        return "feather"
    if head[4:8] == b"\xff\xff\xff\xff" or head.startswith(b"\xff\xff\xff\xff"):
        return "arrow"  # an IPC stream starts with a continuation marker
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt in ("parquet", "arrow", "feather"):
        raise DataCheckError(
            f"not a {fmt} file", subject=str(path), found="no matching magic bytes"
        )
    if fmt is not None:
        return fmt
    raise DataCheckError(
        "unknown dataset format",
        subject=str(path),
        expected="a .csv, .tsv, .parquet, .jsonl, .arrow or .feather file",
    )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _check_size(path: Path, limits: Limits) -> None:
    try:
        info = path.stat()
    except OSError as exc:
        raise DataCheckError(
            f"cannot read: {(exc.strerror or 'error').lower()}", subject=str(path)
        ) from None
    if not path.is_file():
        raise DataCheckError("not a regular file", subject=str(path))
    if info.st_size > limits.max_bytes:
        raise LimitExceeded(
            "dataset file too large",
            subject=str(path),
            expected=f"at most {limits.max_bytes} bytes",
            found=f"{info.st_size} bytes",
        )
    if info.st_size == 0:
        raise DataCheckError("empty dataset file", subject=str(path))


def _take(batches: Any, schema: Any, max_rows: int) -> tuple[Any, bool]:
    import pyarrow as pa

    kept: list[Any] = []
    rows = 0
    truncated = False
    for batch in batches:
        if rows + batch.num_rows > max_rows:
            kept.append(batch.slice(0, max_rows - rows))
            truncated = True
            break
        kept.append(batch)
        rows += batch.num_rows
    return pa.Table.from_batches(kept, schema=schema), truncated


def _read_arrow(path: Path, fmt: str, limits: Limits) -> tuple[Any, bool]:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.feather as feather
    import pyarrow.ipc as ipc
    import pyarrow.json as pjson
    import pyarrow.parquet as pq

    if fmt in ("csv", "tsv"):
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(block_size=_BLOCK),
            parse_options=pcsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ","),
        )
        return _take(reader, reader.schema, limits.max_rows)
    if fmt == "parquet":
        parquet = pq.ParquetFile(path)
        return _take(parquet.iter_batches(batch_size=65_536), parquet.schema_arrow, limits.max_rows)
    if fmt == "jsonl":
        table = pjson.read_json(path, read_options=pjson.ReadOptions(block_size=_BLOCK))
        return _take(table.to_batches(), table.schema, limits.max_rows)
    if fmt == "feather" and _magic(path).startswith(b"FEA1"):
        table = feather.read_table(path)
        return _take(table.to_batches(), table.schema, limits.max_rows)
    source = pa.memory_map(str(path))
    try:
        file_reader = ipc.open_file(source)
        batches = (file_reader.get_batch(i) for i in range(file_reader.num_record_batches))
        return _take(batches, file_reader.schema, limits.max_rows)
    except pa.ArrowInvalid:
        stream = ipc.open_stream(pa.memory_map(str(path)))
        return _take(stream, stream.schema, limits.max_rows)


def read_dataset(path: Path, *, limits: Limits | None = None, fmt: str | None = None) -> Loaded:
    """Load ``path`` as a pandas DataFrame of at most ``limits.max_rows`` rows."""
    limits = limits or Limits()
    _check_size(path, limits)
    chosen = fmt or detect_format(path)
    if chosen not in FORMATS:
        raise DataCheckError("unknown dataset format", found=chosen, expected=", ".join(FORMATS))
    try:
        table, truncated = _read_arrow(path, chosen, limits)
        if table.num_columns > limits.max_columns:
            raise LimitExceeded(
                "too many columns",
                subject=str(path),
                expected=f"at most {limits.max_columns}",
                found=str(table.num_columns),
            )
        frame = table.to_pandas()
    except (DataCheckError, LimitExceeded):
        raise
    except (OSError, ValueError, TypeError, KeyError, IndexError, UnicodeError) as exc:
        # pyarrow.ArrowInvalid and its relatives subclass ValueError / OSError.
        raise DataCheckError(
            f"cannot read {chosen} dataset: {_one_line(exc)}", subject=os.fspath(path)
        ) from None
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DataCheckError("the dataset has no rows or no columns", subject=os.fspath(path))
    if len(set(map(str, frame.columns))) != frame.shape[1]:
        raise DataCheckError("duplicate column names", subject=os.fspath(path))
    frame.columns = [str(c) for c in frame.columns]
    return Loaded(frame, chosen, truncated)
