"""Feature schemas (declared and inferred) and reference data (CSV and Parquet)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from arena_ml_helpers import write_csv

from tutela.arena.ml.data import Dataset, load_dataset
from tutela.arena.ml.schema import build_schema, load_schema_file
from tutela.errors import InputError, TutelaError


def test_schema_inferred_then_declared(tmp_path: Path) -> None:
    """Whole-number columns are inferred integer with the observed range; a YAML file
    overrides type, range and mutability; projection keeps every constraint."""
    ref = np.array([[1.0, 0.5, 2.0], [3.0, 1.5, 0.0], [2.0, 2.5, 1.0]])
    path = tmp_path / "schema.yaml"
    path.write_text(
        "version: 1\nfeatures:\n  a: {immutable: true}\n  c: {type: categorical, values: [0, 2]}\n",
        encoding="utf-8",
    )
    schema = build_schema(["a", "b", "c"], ref, load_schema_file(path))
    kinds = {f.name: (f.kind, f.low, f.high, f.immutable) for f in schema.features}
    assert kinds["a"] == ("integer", 1.0, 3.0, True)
    assert kinds["b"] == ("float", 0.5, 2.5, False)
    assert kinds["c"][:3] == ("categorical", 0.0, 2.0)
    moved = schema.project(np.array([[9.0, 7.0, 1.2]]), ref[0])
    assert moved.tolist() == [[1.0, 2.5, 2.0]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"features": {"a": {"colour": "red"}}}', "unknown schema field"),
        ('{"features": {"a": {"type": "text"}}}', "unknown feature type"),
        ('{"features": {"a": {"min": 3, "max": 1}}}', "min is above max"),
        ('{"features": {"a": {"type": "categorical"}}}', "categorical"),
        ('{"features": {"zzz": {}}}', "columns the data does not have"),
        ('{"features": []}', "a schema is a mapping"),
        ("{not json", "not valid YAML/JSON"),
    ],
)
def test_bad_schema_is_a_one_line_error(text: str, message: str, tmp_path: Path) -> None:
    """Each malformed schema names its problem in one line."""
    path = tmp_path / "schema.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TutelaError) as caught:
        build_schema(["a"], np.zeros((3, 1)), load_schema_file(path))
    assert message in caught.value.diagnostics()
    assert "\n" not in caught.value.diagnostics()


def test_csv_and_parquet_read_alike(wine: Dataset, tmp_path: Path) -> None:
    """The same table as CSV and Parquet gives the same features, labels and digest of
    content; excluded columns become text extras."""
    csv = write_csv(wine, tmp_path / "wine.csv", {"site": ["x"] * len(wine.labels)})
    columns = {n: wine.features[:, i] for i, n in enumerate(wine.names)}
    columns["site"] = np.array(["x"] * len(wine.labels))
    columns["target"] = wine.labels.astype(int)
    parquet = tmp_path / "wine.parquet"
    pq.write_table(pa.table(columns), parquet)
    a = load_dataset(csv, "target", exclude=["site"])
    b = load_dataset(parquet, "target", exclude=["site"])
    np.testing.assert_allclose(a.features, b.features)
    assert a.labels.tolist() == b.labels.tolist() == wine.labels.tolist()
    assert a.names == b.names == wine.names
    assert b.column("site")[0] == "x" and b.digest and b.digest.startswith("sha256:")


def test_bad_data_is_a_one_line_error(tmp_path: Path) -> None:
    """Missing label column and text features are refused with a clear message."""
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n1,x,0\n2,y,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="no such label column"):
        load_dataset(path, "label")
    with pytest.raises(InputError, match="must be numeric"):
        load_dataset(path, "y")
