"""Turn rows (Arrow tables, pandas frames, parquet / csv / jsonl files) into profiles.

Files are streamed in record batches through pyarrow, so a parquet or csv file larger than
memory is profiled in bounded memory; jsonl is parsed whole and therefore size-limited.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tutela.errors import InputError, LimitExceeded
from tutela.monitor.profile import (
    CategoricalProfile,
    ColumnProfile,
    NumericProfile,
    ReservoirRows,
    TableProfile,
)

__all__ = [
    "BATCH_ROWS",
    "MAX_COLUMNS",
    "MAX_JSONL_BYTES",
    "iter_batches",
    "profile_batches",
    "profile_file",
    "profile_rows",
    "table_format",
]

BATCH_ROWS = 131_072
MAX_COLUMNS = 10_000
MAX_JSONL_BYTES = 2 << 30  # jsonl is parsed in one piece: refuse what would not fit
FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


def table_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None and path.is_dir():
        fmt = "parquet"  # a directory of parquet files (a partitioned dataset)
    if fmt is None:
        raise InputError(
            "unsupported table format",
            subject=str(path),
            expected="parquet, csv or jsonl",
            found=path.suffix or "no extension",
        )
    return fmt


def _is_numeric(t: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_date(t)
        or pa.types.is_duration(t)
    )


def _is_categorical(t: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_boolean(t)
        or pa.types.is_dictionary(t)
    )


def _numeric_values(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray[Any, Any], int]:
    t = column.type
    if pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_duration(t):
        column = pc.cast(
            pc.cast(column, pa.int64())
            if not pa.types.is_date32(t)
            else pc.cast(column, pa.int32()),
            pa.float64(),
        )
    elif not pa.types.is_float64(t):
        column = pc.cast(column, pa.float64())
    x = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    finite = np.isfinite(x)
    if finite.all():
        return x, 0
    # Nulls, NaN and infinities all count as missing: none has a place on the number line.
    return x[finite], int(x.size - finite.sum())


def _category_counts(column: pa.ChunkedArray | pa.Array) -> tuple[dict[str, int], int]:
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    counts: dict[str, int] = {}
    missing = 0
    for chunk in chunks:
        missing += int(chunk.null_count)
        if pa.types.is_dictionary(chunk.type):
            # Count the codes, not the strings: no per-row string is ever built.
            codes = chunk.indices.to_numpy(zero_copy_only=False)
            if chunk.null_count:
                codes = codes[chunk.is_valid().to_numpy(zero_copy_only=False)]
            freq = np.bincount(codes.astype(np.int64), minlength=len(chunk.dictionary))
            values = chunk.dictionary.to_pylist()
            pairs = [(values[i], int(freq[i])) for i in np.flatnonzero(freq)]
        else:
            if pa.types.is_boolean(chunk.type):
                chunk = pc.cast(chunk, pa.string())
            vc = pc.value_counts(chunk)
            pairs = list(
                zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True)
            )
        for value, c in pairs:
            if value is not None:
                key = str(value)
                counts[key] = counts.get(key, 0) + int(c)
    return counts, missing


def profile_batches(
    batches: Iterable[pa.RecordBatch | pa.Table],
    *,
    columns: Sequence[str] | None = None,
    reservoir: int = 0,
    seed: int = 0,
) -> TableProfile:
    """One profile for a stream of batches (the columns' kinds come from the first batch)."""
    profile = TableProfile()
    if reservoir:
        profile.reservoir = ReservoirRows(capacity=reservoir, seed=seed)
    skipped: set[str] = set()
    for batch in batches:
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        if columns is not None:
            missing = [c for c in columns if c not in table.column_names]
            if missing:
                raise InputError(
                    "no such column",
                    subject=", ".join(missing),
                    expected=", ".join(table.column_names[:20]),
                )
            table = table.select(list(columns))
        if table.num_columns > MAX_COLUMNS:
            raise LimitExceeded(
                "too many columns", expected=f"at most {MAX_COLUMNS}", found=str(table.num_columns)
            )
        profile.rows += table.num_rows
        for name, column in zip(table.column_names, table.columns, strict=True):
            _update_column(profile.columns, skipped, name, column)
        if profile.reservoir is not None:
            kept = [n for n in table.column_names if n in profile.columns]
            profile.reservoir.add(table.select(kept))
    if skipped:
        profile.meta["skipped_columns"] = sorted(skipped)
    return profile


def _update_column(
    columns: dict[str, ColumnProfile], skipped: set[str], name: str, column: pa.ChunkedArray
) -> None:
    t = column.type
    current = columns.get(name)
    if pa.types.is_null(t):  # an all-null batch: count it as missing for what we know
        if current is not None:
            current.count += len(column)
            current.missing += len(column)
        return
    if _is_numeric(t) and not isinstance(current, CategoricalProfile):
        values, missing = _numeric_values(column)
        numeric = current if isinstance(current, NumericProfile) else NumericProfile()
        numeric.update(values, missing)
        columns[name] = numeric
    elif _is_categorical(t) or isinstance(current, CategoricalProfile):
        counts, missing = _category_counts(
            pc.cast(column, pa.string()) if _is_numeric(t) else column
        )
        categorical = current if isinstance(current, CategoricalProfile) else CategoricalProfile()
        categorical.update(counts, missing)
        columns[name] = categorical
    else:
        skipped.add(name)


def iter_batches(path: Path, *, columns: Sequence[str] | None = None) -> Iterator[pa.Table]:
    """Record batches of a parquet, csv or jsonl file, streamed where the format allows."""
    fmt = table_format(path)
    if not path.exists():
        raise InputError("no such file", subject=str(path))
    try:
        if fmt == "parquet":
            yield from _parquet_batches(path, columns)
        elif fmt == "csv":
            from pyarrow import csv

            reader = csv.open_csv(path, read_options=csv.ReadOptions(block_size=64 << 20))
            for batch in reader:
                yield pa.Table.from_batches([batch])
        else:
            size = path.stat().st_size
            if size > MAX_JSONL_BYTES:
                raise LimitExceeded(
                    "jsonl file too large to parse",
                    subject=str(path),
                    expected=f"at most {MAX_JSONL_BYTES} bytes",
                    found=str(size),
                    hint="convert it to parquet or csv",
                )
            from pyarrow import json as pajson

            table = pajson.read_json(path)
            yield from (table.slice(i, BATCH_ROWS) for i in range(0, table.num_rows, BATCH_ROWS))
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise InputError(
            f"cannot read the {fmt} table", subject=str(path), found=str(exc).splitlines()[0][:200]
        ) from None


def _parquet_batches(path: Path, columns: Sequence[str] | None) -> Iterator[pa.Table]:
    import pyarrow.parquet as pq

    files = [path] if path.is_file() else [Path(f) for f in _dataset_files(path)]
    names = list(columns) if columns is not None else None
    for file in files:
        # Batch by batch within row groups: memory stays near one batch, not one row group.
        handle = pq.ParquetFile(file, pre_buffer=False, buffer_size=1 << 20)
        for batch in handle.iter_batches(batch_size=BATCH_ROWS, columns=names):
            yield pa.Table.from_batches([batch])


def _dataset_files(path: Path) -> list[str]:
    import pyarrow.dataset as ds

    return sorted(str(f) for f in ds.dataset(path, format="parquet").files)


def profile_file(
    path: Path, *, columns: Sequence[str] | None = None, reservoir: int = 0, seed: int = 0
) -> TableProfile:
    if table_format(path) == "parquet" and not reservoir and path.exists():
        profile = _profile_parquet_by_column(path, columns)
    else:
        profile = profile_batches(
            iter_batches(path, columns=columns), columns=columns, reservoir=reservoir, seed=seed
        )
    profile.meta["source"] = str(path)
    return profile


def _profile_parquet_by_column(path: Path, columns: Sequence[str] | None) -> TableProfile:
    """Read one column at a time: peak memory is one column's batch, not a row group."""
    import pyarrow.parquet as pq

    profile = TableProfile()
    skipped: set[str] = set()
    files = [path] if path.is_file() else [Path(f) for f in _dataset_files(path)]
    try:
        for file in files:
            handle = pq.ParquetFile(file)
            names = handle.schema_arrow.names
            wanted = list(columns) if columns is not None else names
            absent = [c for c in wanted if c not in names]
            if absent:
                raise InputError(
                    "no such column", subject=", ".join(absent), expected=", ".join(names[:20])
                )
            if len(wanted) > MAX_COLUMNS:
                raise LimitExceeded(
                    "too many columns", expected=f"at most {MAX_COLUMNS}", found=str(len(wanted))
                )
            profile.rows += handle.metadata.num_rows
            for name in wanted:
                for batch in handle.iter_batches(batch_size=BATCH_ROWS, columns=[name]):
                    _update_column(profile.columns, skipped, name, batch.column(0))
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise InputError(
            "cannot read the parquet table", subject=str(path), found=str(exc).splitlines()[0][:200]
        ) from None
    if skipped:
        profile.meta["skipped_columns"] = sorted(skipped)
    return profile


def profile_rows(data: Any, *, prefix: str = "", reservoir: int = 0) -> TableProfile:
    """Profile in-memory rows: a pandas/polars frame, an Arrow table, a dict of columns."""
    table = _as_table(data)
    if prefix:
        table = table.rename_columns([f"{prefix}{n}" for n in table.column_names])
    return profile_batches([table], reservoir=reservoir)


def _as_table(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if hasattr(data, "to_arrow"):  # polars
        return data.to_arrow()
    try:
        import pandas as pd

        if isinstance(data, pd.Series):
            data = data.to_frame(name=data.name if data.name is not None else "value")
        if isinstance(data, pd.DataFrame):
            return pa.Table.from_pandas(data, preserve_index=False)
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if isinstance(data, dict):
        return pa.table(
            {str(k): np.asarray(v) if not isinstance(v, list) else v for k, v in data.items()}
        )
    array = np.asarray(data)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise InputError("rows must be a table or a 2-D array", found=f"{array.ndim}-D")
    return pa.table({f"x{i}": array[:, i] for i in range(array.shape[1])})
