"""Table digests (``tutela.table/1``): fingerprint an in-memory table through Arrow.

This module resolves the accepted inputs (pandas, polars, pyarrow) to Arrow column chunks
and combines the per-column stream digests of :mod:`tutela.digest.arrow_streams` into one
RFC 8785 document; docs/digests.md specifies it exactly.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from tutela.digest.arrow_streams import make_node
from tutela.digest.core import bytes_digest, canonical_json
from tutela.errors import InputError

__all__ = ["TABLE_DIGEST_VERSION", "TableDigest", "table_digest"]

TABLE_DIGEST_VERSION: Final = "tutela.table/1"


@dataclass(frozen=True, slots=True)
class TableDigest:
    """The fingerprint of a table: digest, row count and ``(name, logical type)`` columns."""

    digest: str
    rows: int
    columns: list[tuple[str, str]] = field(default_factory=list)


class _TableHasher:
    def __init__(self, schema: Any) -> None:
        self.names: list[str] = list(schema.names)
        self.nodes = [make_node(f.type) for f in schema]
        self.rows = 0

    def add_columns(self, columns: Iterable[Iterable[Any]], rows: int) -> None:
        """Feed each column's chunks; columns are independent so chunkings may differ."""
        for node, chunks in zip(self.nodes, columns, strict=True):
            for chunk in chunks:
                node.update(chunk)
        self.rows += rows

    def result(self) -> TableDigest:
        document = {
            "version": TABLE_DIGEST_VERSION,
            "rows": self.rows,
            "columns": [
                {"name": name, **node.describe()}
                for name, node in zip(self.names, self.nodes, strict=True)
            ],
        }
        columns = [(name, node.logical) for name, node in zip(self.names, self.nodes, strict=True)]
        return TableDigest(bytes_digest(canonical_json(document)), self.rows, columns)


def _type_name(obj: object) -> str:
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def _from_pandas(frame: Any) -> Any:
    import pandas as pd
    import pyarrow as pa

    index = frame.index
    default = (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
    )
    try:
        table = pa.Table.from_pandas(frame, preserve_index=not default)
    except (ValueError, TypeError, UnicodeError) as exc:
        # pandas data that Arrow cannot represent (mixed objects, lone surrogates, ...).
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"cannot read table: {message}", found=_type_name(frame)) from None
    if default:
        return table
    # pyarrow appends index columns after the data; the index leads in Tutela's order.
    data = frame.shape[1]
    order = list(range(data, table.num_columns)) + list(range(data))
    return table.select(order)


def _source(table: object) -> tuple[Any, Iterator[tuple[list[Any], int]]]:
    """Resolve any accepted input to (Arrow schema, iterator of (column chunks, rows))."""
    import pyarrow as pa

    module = type(table).__module__.partition(".")[0]
    pd = sys.modules.get("pandas")
    pl = sys.modules.get("polars")
    if pd is not None and isinstance(table, pd.DataFrame):
        table = _from_pandas(table)
    elif pl is not None and isinstance(table, pl.LazyFrame):
        raise InputError(
            "a polars LazyFrame is not accepted",
            found=_type_name(table),
            hint="collect() it first; Tutela does not run query plans implicitly",
        )
    elif pl is not None and isinstance(table, pl.DataFrame):
        table = table.to_arrow()

    if isinstance(table, pa.Table):
        tab = table
        return tab.schema, iter([([col.chunks for col in tab.columns], tab.num_rows)])
    if isinstance(table, pa.RecordBatch):
        batch = table
        return batch.schema, iter([([[col] for col in batch.columns], batch.num_rows)])
    if isinstance(table, pa.RecordBatchReader):
        reader = table
        return reader.schema, (([[col] for col in b.columns], b.num_rows) for b in reader)
    if module in {"pandas", "polars", "pyarrow", "numpy"} or isinstance(table, str | bytes | dict):
        raise _not_a_table(table)
    if isinstance(table, Iterable):
        return _from_batches(table, pa)
    raise _not_a_table(table)


def _not_a_table(table: object) -> InputError:
    return InputError(
        f"cannot fingerprint a {_type_name(table)}",
        expected="a pandas or polars DataFrame, or a pyarrow Table, RecordBatch, "
        "RecordBatchReader or iterable of RecordBatch",
        found=_type_name(table),
    )


def _from_batches(
    batches: Iterable[object], pa: Any
) -> tuple[Any, Iterator[tuple[list[Any], int]]]:
    iterator = iter(batches)
    first = next(iterator, None)
    if first is None:
        raise InputError(
            "an empty iterable of record batches has no schema",
            hint="pass a pyarrow Table (it keeps its schema when empty)",
        )
    if not isinstance(first, pa.RecordBatch):
        raise InputError(
            f"cannot fingerprint a {_type_name(batches)} of {_type_name(first)}",
            expected="an iterable of pyarrow.RecordBatch",
        )
    schema = first.schema

    def chunks() -> Iterator[tuple[list[Any], int]]:
        yield [[col] for col in first.columns], first.num_rows
        for position, batch in enumerate(iterator, 1):
            if not isinstance(batch, pa.RecordBatch) or not batch.schema.equals(schema):
                raise InputError(
                    f"record batch {position} does not match the first batch's schema",
                    expected=str(schema).replace("\n", "; "),
                    found=_type_name(batch)
                    if not isinstance(batch, pa.RecordBatch)
                    else str(batch.schema).replace("\n", "; "),
                )
            yield [[col] for col in batch.columns], batch.num_rows

    return schema, chunks()


def table_digest(table: object) -> TableDigest:
    """Fingerprint an in-memory table without writing it anywhere.

    The digest depends on column names and order, logical types and values, never on
    chunking, batch sizes, physical encodings or the library the table came from.
    """
    try:
        import pyarrow as pa
    except ImportError:
        raise InputError("table digests need pyarrow", hint="install tutela[data]") from None
    if sys.byteorder != "little":
        raise InputError("table digests are only implemented on little-endian hosts")
    try:
        schema, parts = _source(table)
        hasher = _TableHasher(schema)
        for columns, rows in parts:
            hasher.add_columns(columns, rows)
    except pa.ArrowException as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"cannot read table: {message}", found=_type_name(table)) from None
    return hasher.result()
