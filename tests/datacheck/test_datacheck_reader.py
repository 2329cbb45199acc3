"""Every supported format reads to the same table; bad files are one-line errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pytest
from planting import sklearn_frame

from tutela.datacheck.interface import DataCheckError, Limits
from tutela.datacheck.reader import read_dataset
from tutela.errors import LimitExceeded


def _write(frame: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    suffix = path.suffix
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    elif suffix == ".arrow":
        with ipc.new_file(path, table.schema) as writer:
            writer.write_table(table, max_chunksize=50)
    elif suffix == ".feather":
        feather.write_feather(table, path)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".jsonl", ".arrow", ".feather"])
def test_formats_read_alike(tmp_path: Path, suffix: str) -> None:
    frame = sklearn_frame("iris")
    path = tmp_path / f"iris{suffix}"
    _write(frame, path)
    loaded = read_dataset(path)
    assert loaded.format == suffix.lstrip(".")
    assert not loaded.truncated
    pd.testing.assert_frame_equal(loaded.frame, frame, check_dtype=False)


def test_arrow_stream_is_read(tmp_path: Path) -> None:
    table = pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    path = tmp_path / "data.arrows"
    with ipc.new_stream(path, table.schema) as writer:
        writer.write_table(table)
    assert read_dataset(path).frame.shape == (3, 2)


def test_row_limit_truncates(tmp_path: Path) -> None:
    path = tmp_path / "wine.csv"
    sklearn_frame("wine").to_csv(path, index=False)
    loaded = read_dataset(path, limits=Limits(max_rows=50))
    assert loaded.truncated and len(loaded.frame) == 50


def test_size_and_column_limits(tmp_path: Path) -> None:
    path = tmp_path / "wine.csv"
    sklearn_frame("wine").to_csv(path, index=False)
    with pytest.raises(LimitExceeded):
        read_dataset(path, limits=Limits(max_bytes=1000))
    with pytest.raises(LimitExceeded):
        read_dataset(path, limits=Limits(max_columns=5))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("ragged.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n"),
        ("broken.parquet", b"PAR1" + b"\x00garbage" * 20),
        ("notparquet.parquet", b"a,b\n1,2\n"),
        ("bad.jsonl", b'{"a": 1}\n{"a": \n'),
        ("empty.csv", b""),
        ("header_only.csv", b"a,b\n"),
        ("data.xyz", b"a,b\n1,2\n"),
    ],
)
def test_malformed_files_are_one_line_errors(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataCheckError) as caught:
        read_dataset(path)
    message = caught.value.diagnostics()
    assert "\n" not in message and name in message
