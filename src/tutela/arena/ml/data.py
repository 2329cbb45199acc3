"""Reference data for the classifier Arena: a CSV or Parquet table with a label column.

Read with pyarrow, within limits. Feature columns must be numeric (or boolean); the label
may be anything and is compared as text. Missing values become NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tutela.arena.ml.interface import MLArenaError
from tutela.errors import InputError, LimitExceeded

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["Dataset", "load_dataset"]

MAX_BYTES = 2 << 30
MAX_ROWS = 5_000_000
MAX_COLUMNS = 10_000


@dataclass(slots=True)
class Dataset:
    features: NDArray[np.float64]  # rows x features
    labels: NDArray[np.str_]
    names: tuple[str, ...]
    label: str
    source: str = ""
    digest: str | None = None  # tutela.table/1 digest of the file's table, when read
    extras: dict[str, NDArray[np.str_]] = field(default_factory=dict)  # not model inputs

    def column(self, name: str) -> NDArray[np.str_]:
        """A feature or extra column as text (for group labels)."""
        if name in self.extras:
            return self.extras[name]
        if name in self.names:
            return self.features[:, self.names.index(name)].astype(str)
        raise InputError("no such column", subject=self.source, found=name)

    def reorder(self, names: tuple[str, ...]) -> Dataset:
        """The same rows with columns in ``names`` order (the model's own order)."""
        missing = [n for n in names if n not in self.names]
        if missing:
            raise MLArenaError(
                "the data lacks columns the model was trained on",
                found=", ".join(missing[:5]),
                subject=self.source,
            )
        index = [self.names.index(n) for n in names]
        extras = dict(self.extras)
        for name in self.names:
            if name not in names:  # a column the model does not read: keep it for groups
                extras[name] = self.features[:, self.names.index(name)].astype(str)
        return Dataset(
            self.features[:, index],
            self.labels,
            names,
            self.label,
            self.source,
            self.digest,
            extras,
        )


def load_dataset(
    path: Path, label: str, *, exclude: Sequence[str] = (), max_rows: int = MAX_ROWS
) -> Dataset:
    """Features are every column but ``label`` and ``exclude`` (kept as text extras)."""
    try:
        import numpy as np
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq
    except ImportError:
        raise MLArenaError(
            "reading data needs pyarrow", hint="pip install 'tutela[data]'"
        ) from None
    if not path.is_file():
        raise InputError("no such data file", subject=str(path))
    if path.stat().st_size > MAX_BYTES:
        raise LimitExceeded(
            "data file too large", subject=str(path), expected=f"at most {MAX_BYTES} bytes"
        )
    with path.open("rb") as fh:
        parquet = fh.read(4) == b"PAR1"
    try:
        table = pq.read_table(path) if parquet else pacsv.read_csv(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(
            f"cannot read the table: {exc}".splitlines()[0], subject=str(path)
        ) from None
    if table.num_rows > max_rows or table.num_columns > MAX_COLUMNS:
        raise LimitExceeded(
            "table too large",
            subject=str(path),
            expected=f"at most {max_rows} rows and {MAX_COLUMNS} columns",
            found=f"{table.num_rows} x {table.num_columns}",
        )
    if label not in table.column_names:
        raise InputError(
            "no such label column",
            subject=str(path),
            found=label,
            expected=", ".join(table.column_names[:10]),
        )
    unknown = [n for n in exclude if n not in table.column_names]
    if unknown:
        raise InputError("no such column to leave out", subject=str(path), found=unknown[0])
    names = tuple(n for n in table.column_names if n != label and n not in exclude)
    extras = {n: np.asarray([str(v) for v in table.column(n).to_pylist()]) for n in exclude}
    columns = []
    for name in names:
        column = table.column(name)
        kind = column.type
        if not (
            pa.types.is_integer(kind)
            or pa.types.is_floating(kind)
            or pa.types.is_boolean(kind)
            or pa.types.is_null(kind)
        ):
            raise InputError(
                "feature columns must be numeric",
                subject=f"{path}: {name}",
                found=str(kind),
                hint="encode categories as numbers",
            )
        columns.append(column.to_numpy(zero_copy_only=False).astype(np.float64))
    features = np.column_stack(columns) if columns else np.zeros((table.num_rows, 0))
    labels = np.asarray([str(v) for v in table.column(label).to_pylist()])
    digest = None
    try:
        from tutela.digest import table_digest

        digest = table_digest(table).digest
    except Exception:  # a digest is a courtesy here; the run does not depend on it
        digest = None
    return Dataset(features.astype(np.float64), labels, names, label, str(path), digest, extras)
