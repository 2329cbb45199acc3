"""What a run read or wrote, named by content: files, folders and in-memory tables.

Observing never changes the object: a path is digested where it lies (a file by its bytes,
a folder by its ``tutela.dir/1`` manifest), a table by its ``tutela.table/1`` fingerprint.
numpy arrays (what scikit-learn is often fitted on) are fingerprinted as the Arrow table
whose columns are the array's columns named ``"0"``, ``"1"``, ...; a 1-D array is one
column ``"0"``. So the same data gets the same digest wherever it appears.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tutela.errors import InputError

__all__ = ["Form", "Observed", "asset_name", "is_path", "observe", "observe_path", "observe_table"]

Form = Literal["file", "dir", "table", "identity"]

_BAD = re.compile(r"[^A-Za-z0-9._\-/:+]+")


@dataclass(frozen=True)
class Observed:
    """A digest and where it was seen; ``location`` is an absolute path, None for tables.

    ``identity`` versions have no content digest: they are named by the digest of an
    external identity (an OpenLineage dataset, an MLflow dataset without a local file).
    """

    digest: str
    form: Form
    location: str | None
    default_name: str
    meta: dict[str, Any] = field(default_factory=dict)


def asset_name(text: str) -> str:
    """A valid asset name made from free text (a file stem, a job name)."""
    name = _BAD.sub("-", text).strip("-._/:+")[:200]
    return name or "data"


def is_path(obj: object) -> bool:
    return isinstance(obj, str | os.PathLike)


def observe_path(path: str | os.PathLike[str]) -> Observed:
    from tutela.digest import dir_digest, file_digest

    target = Path(os.fspath(path)).expanduser().absolute()
    if not target.exists():
        raise InputError("no such file or directory", subject=str(target))
    if target.is_dir():
        digest = dir_digest(target)
        count = len(digest.manifest.entries)
        return Observed(
            digest.digest, "dir", str(target), asset_name(target.name), {"entries": count}
        )
    found = file_digest(target)
    stem = target.name.split(".")[0] or target.name
    return Observed(found.digest, "file", str(target), asset_name(stem), {"size": found.size})


def _numpy_table(array: Any) -> Any:
    import pyarrow as pa

    if array.ndim == 1:
        return pa.table({"0": array})
    if array.ndim == 2:
        return pa.table({str(i): array[:, i] for i in range(array.shape[1])})
    raise InputError(
        f"cannot fingerprint a {array.ndim}-dimensional array",
        expected="a 1-D or 2-D array, a DataFrame, or a pyarrow Table",
    )


def observe_table(table: object) -> Observed:
    from tutela.digest import table_digest

    np = sys.modules.get("numpy")
    pd = sys.modules.get("pandas")
    source = table
    if np is not None and isinstance(table, np.ndarray):
        source = _numpy_table(table)
    elif pd is not None and isinstance(table, pd.Series):
        source = table.to_frame()
    found = table_digest(source)
    meta = {
        "rows": found.rows,
        "columns": len(found.columns),
        "type": f"{type(table).__module__}.{type(table).__qualname__}",
    }
    return Observed(found.digest, "table", None, "table-" + found.digest[7:19], meta)


def observe(obj: object) -> Observed:
    """Digest a path (file or folder) or a table."""
    if is_path(obj):
        return observe_path(obj)  # type: ignore[arg-type]
    return observe_table(obj)
